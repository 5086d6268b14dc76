//! Executes `notebooks/coverage_gaps.ipynb` headless (nbclient, through
//! `notebooks/run_notebook.py`) against the `refmatch` binary cargo built
//! for this test run, and fails if any cell fails. Needs the packages of
//! `notebooks/requirements.txt` (`bash scripts/test` installs them in
//! `.venv/`); downloads nothing.

use std::process::Command;

#[test]
fn coverage_notebook_runs_every_cell() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::env::temp_dir().join(format!("refmatch-notebook-{}", std::process::id()));
    // The interpreter of the project's virtual environment (scripts/test
    // makes it and sets REFMATCH_PYTHON), else the one on PATH.
    let python = std::env::var("REFMATCH_PYTHON").unwrap_or_else(|_| {
        let local = format!("{root}/.venv/bin/python");
        if std::path::Path::new(&local).exists() {
            local
        } else {
            "python3".to_owned()
        }
    });
    let output = Command::new(&python)
        .arg(format!("{root}/notebooks/run_notebook.py"))
        .arg(format!("{root}/notebooks/coverage_gaps.ipynb"))
        .env("REFMATCH_BIN", env!("CARGO_BIN_EXE_refmatch"))
        .env("REFMATCH_NOTEBOOK_OUT", &out)
        .output()
        .unwrap_or_else(|e| {
            panic!("{python} runs ({e}): `bash scripts/test` installs what it needs")
        });
    assert!(
        output.status.success(),
        "the notebook failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for picture in [
        "choropleth.png",
        "underserved.png",
        "sites.png",
        "demand.png",
    ] {
        let bytes = std::fs::read(out.join(picture)).unwrap_or_default();
        assert!(bytes.starts_with(b"\x89PNG"), "{picture} was not drawn");
    }
    let _ = std::fs::remove_dir_all(&out);
}
