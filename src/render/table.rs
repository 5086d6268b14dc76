//! Plain-text tables for a person at a terminal: a match answer
//! (`refmatch match`) and the API keys issued (`refmatch keys list`).
//! Columns are padded with spaces; each row ends with a newline.

use crate::index::Directory;
use crate::matching::MatchResponse;
use crate::store::KeyListing;
use std::io::{self, Write};

/// Widest provider name shown in a match table, in characters; longer
/// names are cut.
const NAME_CHARS: usize = 42;

/// Writes a match answer as a table: a `caller:` line naming the resolved
/// place (`lat, lon` in degrees, 4 decimals), then one row per result with
/// rank, name, kind, distance (km, 1 decimal; `-` without a location), the
/// first number to give the caller and the reasons (`[relaxed]` first when
/// a filter was relaxed). Without results it says so instead of the rows.
///
/// Only what `response` already holds for its viewer is written: the
/// phones are [`crate::matching::Match::phones`], chosen for the view the
/// answer was computed for.
///
/// # Errors
/// The I/O error of writing to `out`.
pub fn write_match_table(
    out: &mut impl Write,
    response: &MatchResponse,
    directory: &Directory,
) -> io::Result<()> {
    let place = &response.place;
    writeln!(
        out,
        "caller: {} ({:.4}, {:.4}; {}){}",
        place.name.as_deref().unwrap_or("coordinates"),
        place.lat,
        place.lon,
        place.precision.as_str(),
        place
            .county
            .as_deref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default()
    )?;
    if response.results.is_empty() {
        writeln!(out, "no provider matches; try fewer filters")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>4}  {:<42}  {:<24}  {:>9}  {:<20}  reasons",
        "rank", "name", "kind", "distance", "phone"
    )?;
    for result in &response.results {
        let Some(provider) = directory.provider(result.index) else {
            continue;
        };
        let name: String = provider.name.chars().take(NAME_CHARS).collect();
        let distance = result
            .distance_km
            .map_or_else(|| "-".to_owned(), |d| format!("{d:.1} km"));
        let phone = result
            .phones(provider)
            .next()
            .map_or("-", |p| p.number.as_str());
        let mut reasons = result.reasons.join("; ");
        if !result.relaxed.is_empty() {
            reasons = format!("[relaxed] {reasons}");
        }
        writeln!(
            out,
            "{:>4}  {:<42}  {:<24}  {:>9}  {:<20}  {}",
            result.rank,
            name,
            provider.kind.code(),
            distance,
            phone,
            reasons
        )?;
    }
    Ok(())
}

/// Writes the API keys issued as a table: number, the secret's first
/// characters, role, creation time (UTC, to the second), `active` or
/// `revoked`, and name; a provider key's records on a line of their own.
/// Never a secret: the store holds only hashes.
///
/// # Errors
/// The I/O error of writing to `out`.
pub fn write_keys_table(out: &mut impl Write, keys: &[KeyListing]) -> io::Result<()> {
    writeln!(
        out,
        "{:>4}  {:<8}  {:<8}  {:<20}  {:<7}  name",
        "#", "prefix", "role", "created", "status"
    )?;
    for listed in keys {
        let key = &listed.key;
        let created: String = key.created_at.to_string().chars().take(19).collect();
        writeln!(
            out,
            "{:>4}  {:<8}  {:<8}  {:<20}  {:<7}  {}",
            key.id,
            key.prefix,
            key.role.to_string(),
            created,
            if listed.revoked { "revoked" } else { "active" },
            key.name
        )?;
        if !key.records.is_empty() {
            writeln!(out, "{:>4}  records: {}", "", key.records.join(", "))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::store::ApiKey;

    #[test]
    fn keys_table_lists_numbers_prefixes_and_status_never_a_secret() {
        let key = |id, name: &str, role| ApiKey {
            id,
            name: name.to_owned(),
            role,
            prefix: "rmk_ab12".to_owned(),
            created_at: "2026-12-03T15:52:31.123Z".parse().unwrap(),
            records: Vec::new(),
        };
        let keys = [
            KeyListing {
                key: key(1, "hotline desk", Role::Admin),
                revoked: false,
            },
            KeyListing {
                key: key(12, "old laptop", Role::Advocate),
                revoked: true,
            },
            KeyListing {
                key: ApiKey {
                    records: vec!["casa-x".to_owned(), "casa-y".to_owned()],
                    ..key(13, "Casa X desk", Role::Provider)
                },
                revoked: false,
            },
        ];
        let mut out = Vec::new();
        write_keys_table(&mut out, &keys).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "   #  prefix    role      created               status   name\n\
             \x20  1  rmk_ab12  admin     2026-12-03T15:52:31   active   hotline desk\n\
             \x20 12  rmk_ab12  advocate  2026-12-03T15:52:31   revoked  old laptop\n\
             \x20 13  rmk_ab12  provider  2026-12-03T15:52:31   active   Casa X desk\n\
             \x20     records: casa-x, casa-y\n"
        );
    }
}
