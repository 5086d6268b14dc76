"""Execute a notebook headless with nbclient; exit 1 if any cell fails.

Usage: python3 notebooks/run_notebook.py notebooks/coverage_gaps.ipynb [executed.ipynb]

The kernel runs with the notebook's folder as working directory. The
notebook finds the refmatch binary through the REFMATCH_BIN environment
variable (tests/notebook.rs passes the one cargo built); nothing is
downloaded.
"""

import pathlib
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    path = pathlib.Path(sys.argv[1]).resolve()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        print(f"{path.name}: a cell failed:\n{error}", file=sys.stderr)
        return 1
    finally:
        if len(sys.argv) == 3:
            nbformat.write(notebook, sys.argv[2])
    print(f"{path.name}: {len(notebook.cells)} cells ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
