//! Shared by the in-process HTTP tests: the bundled directory's server
//! state, built once per test binary, and query-string encoding.

use refmatch::api::AppState;
use refmatch::gazetteer::Gazetteer;
use refmatch::index::{Directory, IndexOptions};
use refmatch::ingest::Validator;
use refmatch::model::Vocabulary;
use std::sync::{Arc, OnceLock};

/// The server state over the bundled gazetteer, hotlines and sample
/// directory, as `refmatch serve` builds it.
pub fn state() -> AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE
        .get_or_init(|| {
            let gazetteer = Gazetteer::bundled().expect("bundled gazetteer loads");
            let vocabulary = Vocabulary::bundled().expect("vocabulary");
            let ingested = Validator::new(&gazetteer, &vocabulary).read_bundled();
            let (directory, _) =
                Directory::build(ingested.providers, &gazetteer, IndexOptions::default())
                    .expect("directory builds");
            AppState {
                gazetteer: Arc::new(gazetteer),
                directory: Arc::new(directory),
                vocabulary: Arc::new(vocabulary),
            }
        })
        .clone()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
