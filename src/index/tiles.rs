//! A file of tiled regions, so that a server start does not tile again the
//! states, counties and countries it tiled last time (tiling is most of
//! the index build of the bundled directory).
//!
//! The file is a cache, never a source of truth: each entry carries a
//! fingerprint of the boundary it was tiled from, and is used only when
//! the gazetteer's boundary for that key still has that fingerprint and
//! the file was written with the same resolution, cell cap and tiling
//! version. Anything else (another gazetteer, another resolution, a
//! truncated or foreign file) means "tile again", never a wrong cover.
//!
//! Layout, little-endian: the magic `RMTILES` and [`TILING_VERSION`] (one
//! byte), the resolution (one byte), the cell cap (`u64`), the entry count
//! (`u32`); then per entry the key length (`u16`) and key (UTF-8), the
//! boundary fingerprint (`u64`), the region's resolution (one byte), the
//! cell count (`u32`) and the cells (`u64` each).

use super::area::Region;
use geo::MultiPolygon;
use h3o::{CellIndex, Resolution};
use std::hash::Hasher;
use std::io::Write;
use std::path::Path;

/// Bumped whenever [`Region::new`]'s tiling changes, so that covers tiled
/// by an older build are not reused.
pub const TILING_VERSION: u8 = 1;

const MAGIC: &[u8; 7] = b"RMTILES";

/// Why a tile file was not used or not written.
#[derive(Debug, thiserror::Error)]
pub enum TileFileError {
    /// The file could not be read or written.
    #[error("tile file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a tile file of this build and these options.
    #[error("tile file {path} is not usable: {reason}")]
    Unusable {
        /// The file.
        path: String,
        /// What did not match.
        reason: String,
    },
}

/// One entry read from a tile file.
pub(crate) struct TiledEntry {
    pub(crate) key: String,
    pub(crate) fingerprint: u64,
    pub(crate) resolution: Resolution,
    pub(crate) cells: Vec<CellIndex>,
}

/// A fingerprint of a boundary as the gazetteer gives it: every
/// coordinate's bits, ring by ring (FxHash: the same on every run).
pub(crate) fn fingerprint(shape: &MultiPolygon<f64>) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    for polygon in &shape.0 {
        hasher.write_usize(polygon.interiors().len());
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            hasher.write_usize(ring.0.len());
            for c in &ring.0 {
                hasher.write_u64(c.x.to_bits());
                hasher.write_u64(c.y.to_bits());
            }
        }
    }
    hasher.finish()
}

/// Writes `regions` (key, fingerprint of the gazetteer boundary, region)
/// to `path`, through a temporary file renamed into place, so a reader
/// never sees half a file.
pub(crate) fn write(
    path: &Path,
    resolution: Resolution,
    max_cells: usize,
    regions: &[(u64, &Region)],
) -> Result<(), TileFileError> {
    let io = |source| TileFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut out = Vec::with_capacity(
        32 + regions
            .iter()
            .map(|(_, r)| 24 + r.key().len() + 8 * r.cells().len())
            .sum::<usize>(),
    );
    out.extend_from_slice(MAGIC);
    out.push(TILING_VERSION);
    out.push(u8::from(resolution));
    out.extend_from_slice(&(max_cells as u64).to_le_bytes());
    let count = u32::try_from(regions.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_le_bytes());
    for (fingerprint, region) in regions.iter().take(count as usize) {
        let key = region.key().as_bytes();
        let key_len = u16::try_from(key.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&key_len.to_le_bytes());
        out.extend_from_slice(&key[..usize::from(key_len)]);
        out.extend_from_slice(&fingerprint.to_le_bytes());
        out.push(u8::from(region.resolution()));
        let cells = region.cells();
        let cell_count = u32::try_from(cells.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&cell_count.to_le_bytes());
        for cell in cells.iter().take(cell_count as usize) {
            out.extend_from_slice(&u64::from(*cell).to_le_bytes());
        }
    }
    let temporary = path.with_extension("tiles-tmp");
    // Private (0600, whatever the umask): the tiles sit beside the store
    // and outline confidential providers' own polygons.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    file.write_all(&out).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(io)
}

/// Reads a tile file written by [`write`] with the same `resolution` and
/// `max_cells`. `Ok(None)` when there is no file.
pub(crate) fn read(
    path: &Path,
    resolution: Resolution,
    max_cells: usize,
) -> Result<Option<Vec<TiledEntry>>, TileFileError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(TileFileError::Io {
                path: path.display().to_string(),
                source,
            })
        }
    };
    parse(&bytes, resolution, max_cells)
        .map(Some)
        .map_err(|reason| TileFileError::Unusable {
            path: path.display().to_string(),
            reason,
        })
}

/// A cursor over the file's bytes that never reads past the end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err("the file is truncated".to_owned());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }
}

fn parse(
    bytes: &[u8],
    resolution: Resolution,
    max_cells: usize,
) -> Result<Vec<TiledEntry>, String> {
    let mut r = Reader { bytes };
    if r.take(MAGIC.len())? != MAGIC {
        return Err("not a refmatch tile file".to_owned());
    }
    let version = r.u8()?;
    if version != TILING_VERSION {
        return Err(format!(
            "tiling version {version}, this build tiles as version {TILING_VERSION}"
        ));
    }
    let file_resolution = r.u8()?;
    let file_cap = u64::from_le_bytes(r.array()?);
    if file_resolution != u8::from(resolution) || file_cap != max_cells as u64 {
        return Err(format!(
            "tiled at resolution {file_resolution} with a cap of {file_cap} cells; \
             this index uses {} and {max_cells}",
            u8::from(resolution)
        ));
    }
    let count = u32::from_le_bytes(r.array()?);
    let mut entries = Vec::new();
    for _ in 0..count {
        let key_len = usize::from(u16::from_le_bytes(r.array()?));
        let key = std::str::from_utf8(r.take(key_len)?)
            .map_err(|_| "a key is not UTF-8".to_owned())?
            .to_owned();
        let fingerprint = u64::from_le_bytes(r.array()?);
        let region_resolution =
            Resolution::try_from(r.u8()?).map_err(|e| format!("{key}: bad resolution: {e}"))?;
        let cell_count = u32::from_le_bytes(r.array()?) as usize;
        if r.bytes.len() / 8 < cell_count {
            return Err("the file is truncated".to_owned());
        }
        let mut cells = Vec::with_capacity(cell_count);
        for _ in 0..cell_count {
            let raw = u64::from_le_bytes(r.array()?);
            let cell = CellIndex::try_from(raw).map_err(|e| format!("{key}: bad cell: {e}"))?;
            if cell.resolution() > region_resolution {
                return Err(format!("{key}: a cell finer than the region's resolution"));
            }
            cells.push(cell);
        }
        entries.push(TiledEntry {
            key,
            fingerprint,
            resolution: region_resolution,
            cells,
        });
    }
    if !r.bytes.is_empty() {
        return Err("bytes after the last entry".to_owned());
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;
    use proptest::prelude::*;

    fn square() -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: -120.0, y: 36.0),
            (x: -119.0, y: 36.0),
            (x: -119.0, y: 37.0),
            (x: -120.0, y: 37.0),
            (x: -120.0, y: 36.0),
        ]])
    }

    #[test]
    fn a_written_file_reads_back_the_same_cells() {
        let region =
            Region::new("county:99999".into(), square(), Resolution::Five, 20_000).expect("tiles");
        let dir = tempdir();
        let path = dir.join("t.tiles");
        write(
            &path,
            Resolution::Five,
            20_000,
            &[(fingerprint(&square()), &region)],
        )
        .expect("writes");
        let entries = read(&path, Resolution::Five, 20_000)
            .expect("reads")
            .expect("exists");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].key, "county:99999");
        assert_eq!(entries[0].fingerprint, fingerprint(&square()));
        assert_eq!(entries[0].resolution, region.resolution());
        assert_eq!(entries[0].cells, region.cells());
        // Other options: not used.
        assert!(read(&path, Resolution::Six, 20_000).is_err());
        assert!(read(&path, Resolution::Five, 10_000).is_err());
        assert!(read(&dir.join("absent.tiles"), Resolution::Five, 20_000)
            .expect("no file is not an error")
            .is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn another_boundary_has_another_fingerprint() {
        let mut moved = square();
        moved.0[0].exterior_mut(|ring| ring.0[1].x = -118.999);
        assert_ne!(fingerprint(&square()), fingerprint(&moved));
    }

    fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "refmatch-tiles-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    proptest! {
        /// No byte string panics the reader: it is used or refused.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&bytes, Resolution::Five, 20_000);
        }

        /// Every prefix of a good file shorter than the whole is refused.
        #[test]
        fn truncated_files_are_refused(cut in 0usize..200) {
            let region = Region::new("state:ZZ".into(), square(), Resolution::Five, 20_000).expect("tiles");
            let dir = tempdir();
            let path = dir.join(format!("p{cut}.tiles"));
            write(&path, Resolution::Five, 20_000, &[(1, &region)]).expect("writes");
            let bytes = std::fs::read(&path).expect("reads");
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_dir(&dir);
            let cut = cut.min(bytes.len().saturating_sub(1));
            prop_assert!(parse(&bytes[..cut], Resolution::Five, 20_000).is_err());
        }
    }
}
