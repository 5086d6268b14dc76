//! The store's files are private to the account that runs refmatch.
//!
//! They hold every confidential record, its history, the audit log,
//! submitters' addresses and key hashes. Whatever the process umask:
//! - a folder refmatch creates for the store is made `0700`;
//! - the database file is created by refmatch itself, `0600`, before
//!   SQLite opens it. SQLite creates its `-wal` and `-shm` files with the
//!   database file's permission bits (it `fchmod`s them to match), so they
//!   are `0600` too; the tile file is written `0600` by the index.
//!
//! Modes are set explicitly (`fchmod` on the new file, `chmod` on the new
//! folder), not through the umask: the umask is process-wide (changing it
//! would race with every other thread creating files) and can only take
//! bits away.
//!
//! Files and folders that exist already are **not** changed: an operator
//! may have opened them on purpose (a backup account in the group). Each
//! one that group or others may use is reported at start with a
//! `tracing::warn!` that names it, its mode and the command that closes
//! it.

use std::fmt;
use std::path::{Path, PathBuf};

/// Mode of the folders refmatch creates for the store.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Mode of the files refmatch creates for the store.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// A store file or folder that other accounts may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// The file or folder.
    pub path: PathBuf,
    /// Its permission bits (e.g. `0o644`).
    pub mode: u32,
    /// True for a folder.
    pub folder: bool,
}

impl fmt::Display for Exposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, who_can, fix) = if self.folder {
            (
                "folder",
                "list the store's files (and, where it is writable, replace them)",
                PRIVATE_DIR_MODE,
            )
        } else {
            (
                "file",
                "read confidential records, the audit log and key hashes",
                PRIVATE_FILE_MODE,
            )
        };
        write!(
            f,
            "the store {what} {} has mode {:04o}: other accounts can {who_can}; run `chmod {:o} {}`",
            self.path.display(),
            self.mode,
            fix,
            self.path.display()
        )
    }
}

/// Creates `dir` and its missing parents, each `0700` (existing ones are
/// left alone).
///
/// # Errors
/// The I/O error of creating a folder or setting its mode.
pub(super) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dir(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => set_mode(dir, PRIVATE_DIR_MODE),
        // Made by another process meanwhile: theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates `path` empty with mode `0600` when it does not exist (SQLite
/// then opens it as a new database). True when it was created.
///
/// # Errors
/// The I/O error of creating it or setting its mode.
pub(super) fn create_private_file(path: &Path) -> std::io::Result<bool> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_FILE_MODE);
    }
    match options.open(path) {
        Ok(file) => {
            // The umask may have taken bits away from 0600: set it exactly.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_FILE_MODE))?;
            }
            drop(file);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// `path` when it exists and group or others have any permission on it.
pub fn exposure(path: &Path) -> Option<Exposure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path).ok()?;
        let mode = metadata.permissions().mode() & 0o7777;
        (mode & 0o077 != 0).then(|| Exposure {
            path: path.to_path_buf(),
            mode,
            folder: metadata.is_dir(),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The folder and the files of the database at `database` (`-wal`,
/// `-shm`, `-journal`) that other accounts may use.
pub fn exposures(database: &Path) -> Vec<Exposure> {
    let folder = match database.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut paths = vec![folder, database.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        paths.push(PathBuf::from(name));
    }
    paths.iter().filter_map(|p| exposure(p)).collect()
}

/// Logs a warning for each of `exposures`.
pub fn warn_exposed(exposures: &[Exposure]) {
    for exposure in exposures {
        tracing::warn!(path = %exposure.path.display(), mode = %format!("{:04o}", exposure.mode), "{exposure}");
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_folders_and_files_are_private_and_open_ones_reported() {
        let base = std::env::temp_dir().join(format!("refmatch-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let dir = base.join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&base), 0o700);
        assert_eq!(mode(&base.join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("store.sqlite");
        assert!(create_private_file(&file).unwrap());
        assert!(!create_private_file(&file).unwrap(), "exists: left alone");
        assert_eq!(mode(&file), 0o600);
        assert!(exposures(&file).is_empty());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let found = exposures(&file);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].folder && found[0].mode == 0o755);
        assert_eq!((found[1].folder, found[1].mode), (false, 0o644));
        let text = found[1].to_string();
        assert!(
            text.contains("mode 0644") && text.contains("chmod 600"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&base);
    }
}
