//! Executes `notebooks/coverage_gaps.ipynb` headless (nbclient, through
//! `notebooks/run_notebook.py`) against the `refmatch` binary cargo built
//! for this test run, and fails if any cell fails. Needs the packages of
//! `notebooks/requirements.txt` (`.ci/run` installs them); downloads
//! nothing.

use std::process::Command;

#[test]
fn coverage_notebook_runs_every_cell() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::env::temp_dir().join(format!("refmatch-notebook-{}", std::process::id()));
    let output = Command::new("python3")
        .arg(format!("{root}/notebooks/run_notebook.py"))
        .arg(format!("{root}/notebooks/coverage_gaps.ipynb"))
        .env("REFMATCH_BIN", env!("CARGO_BIN_EXE_refmatch"))
        .env("REFMATCH_NOTEBOOK_OUT", &out)
        .output()
        .expect("python3 runs (install it and `pip install -r notebooks/requirements.txt`)");
    assert!(
        output.status.success(),
        "the notebook failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for picture in ["choropleth.png", "underserved.png", "sites.png"] {
        let bytes = std::fs::read(out.join(picture)).unwrap_or_default();
        assert!(bytes.starts_with(b"\x89PNG"), "{picture} was not drawn");
    }
    let _ = std::fs::remove_dir_all(&out);
}
