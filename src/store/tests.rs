use super::sqlite::MIGRATIONS;
use super::*;
use std::path::PathBuf;

const ADMIN: Actor<'static> = Actor {
    name: "key:admin#1",
    role: Role::Admin,
};
const ADVOCATE: Actor<'static> = Actor {
    name: "key:alice#2",
    role: Role::Advocate,
};
const PUBLIC: Actor<'static> = Actor {
    name: "public@127.0.0.1",
    role: Role::Public,
};

fn provider(id: &str, name: &str) -> Provider {
    serde_json::from_value(serde_json::json!({
        "id": id, "name": name, "kind": "service_provider",
        "availability": {"type": "open24h"}, "source": "test"
    }))
    .unwrap()
}

fn memory() -> SqliteStore {
    SqliteStore::open_in_memory().unwrap()
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "refmatch-store-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn create_get_update_keep_versions_and_history() {
    let mut store = memory();
    assert!(store.is_empty().unwrap());
    let created = store.create(&provider("p1", "P One"), &ADMIN).unwrap();
    assert_eq!((created.version, created.active), (1, true));
    assert_eq!(created.updated_by, "key:admin#1");
    assert!(!store.is_empty().unwrap());
    assert_eq!(store.get("p1").unwrap(), Some(created.clone()));
    assert_eq!(store.get("p2").unwrap(), None);

    let updated = store
        .update(&provider("p1", "P One renamed"), Some(1), &ADMIN)
        .unwrap();
    assert_eq!(updated.version, 2);
    let got = store.get("p1").unwrap().unwrap();
    assert_eq!(got, updated);
    assert_eq!(got.provider.name, "P One renamed");

    let history = store.history("p1").unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].action, "create");
    assert_eq!(history[0].version, 1);
    assert_eq!(history[0].before, None);
    assert_eq!(history[0].after, Some(provider("p1", "P One")));
    assert_eq!(history[1].action, "update");
    assert_eq!(history[1].version, 2);
    assert_eq!(history[1].before, Some(provider("p1", "P One")));
    assert_eq!(history[1].after, Some(provider("p1", "P One renamed")));
    assert!(history[0].seq < history[1].seq);
    assert!(store.history("unknown").unwrap().is_empty());

    // Without an expected version there is no check.
    assert_eq!(
        store
            .update(&provider("p1", "Third"), None, &ADMIN)
            .unwrap()
            .version,
        3
    );
    // Updating an unknown id is NotFound.
    assert!(matches!(
        store.update(&provider("nope", "N"), None, &ADMIN),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn a_stale_version_is_refused_and_nothing_written() {
    let mut store = memory();
    store.create(&provider("p1", "P One"), &ADMIN).unwrap();
    store
        .update(&provider("p1", "Second"), Some(1), &ADMIN)
        .unwrap();
    let err = store
        .update(&provider("p1", "Lost update"), Some(1), &ADMIN)
        .unwrap_err();
    match &err {
        StoreError::Stale { id, current } => assert_eq!((id.as_str(), *current), ("p1", 2)),
        other => panic!("expected Stale, got {other:?}"),
    }
    assert!(err.to_string().contains("version 2"));
    assert_eq!(store.get("p1").unwrap().unwrap().provider.name, "Second");
    assert_eq!(store.history("p1").unwrap().len(), 2);
    assert!(matches!(
        store.deactivate("p1", Some(1), &ADMIN),
        Err(StoreError::Stale { current: 2, .. })
    ));
}

#[test]
fn creating_an_existing_id_is_a_conflict() {
    let mut store = memory();
    store.create(&provider("p1", "P One"), &ADMIN).unwrap();
    let err = store.create(&provider("p1", "Again"), &ADMIN).unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(id) if id == "p1"),
        "{err:?}"
    );
    assert!(err.to_string().contains("PUT"));
    assert_eq!(store.get("p1").unwrap().unwrap().provider.name, "P One");
    // Also once deleted.
    store.deactivate("p1", None, &ADMIN).unwrap();
    assert!(matches!(
        store.create(&provider("p1", "Again"), &ADMIN),
        Err(StoreError::Conflict(_))
    ));
    // The failed creates left no trace.
    assert_eq!(store.history("p1").unwrap().len(), 2);
}

#[test]
fn deactivate_hides_the_record_and_update_restores_it() {
    let mut store = memory();
    store.create(&provider("p1", "P One"), &ADMIN).unwrap();
    store.create(&provider("p2", "P Two"), &ADMIN).unwrap();
    let deleted = store.deactivate("p1", Some(1), &ADMIN).unwrap();
    assert_eq!((deleted.version, deleted.active), (2, false));
    let active: Vec<String> = store
        .active()
        .unwrap()
        .into_iter()
        .map(|s| s.provider.id.to_string())
        .collect();
    assert_eq!(active, ["p2"]);
    let kept = store.get("p1").unwrap().unwrap();
    assert!(!kept.active);
    assert_eq!(kept.provider.name, "P One");
    let history = store.history("p1").unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].action, "delete");
    assert_eq!(history[1].before, Some(provider("p1", "P One")));
    assert_eq!(history[1].after, None);
    // Deleting again is NotFound, as is deleting an unknown id.
    assert!(matches!(
        store.deactivate("p1", None, &ADMIN),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.deactivate("zz", None, &ADMIN),
        Err(StoreError::NotFound(_))
    ));

    let restored = store
        .update(&provider("p1", "P One back"), Some(2), &ADMIN)
        .unwrap();
    assert_eq!((restored.version, restored.active), (3, true));
    assert_eq!(store.active().unwrap().len(), 2);
    assert_eq!(store.history("p1").unwrap()[2].action, "restore");
}

#[test]
fn import_counts_created_updated_unchanged() {
    let mut store = memory();
    store.create(&provider("a", "A"), &ADMIN).unwrap();
    store.create(&provider("b", "B"), &ADMIN).unwrap();
    store.create(&provider("d", "D"), &ADMIN).unwrap();
    store.deactivate("d", None, &ADMIN).unwrap();
    let counts = store
        .import(
            &[
                provider("a", "A"),         // unchanged
                provider("b", "B changed"), // updated
                provider("c", "C"),         // created
                provider("d", "D"),         // deleted: restored, counted updated
            ],
            &ADMIN,
        )
        .unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            created: 1,
            updated: 2,
            unchanged: 1
        }
    );
    assert_eq!(store.get("a").unwrap().unwrap().version, 1);
    assert_eq!(store.history("a").unwrap().len(), 1);
    let b = store.get("b").unwrap().unwrap();
    assert_eq!((b.version, b.provider.name.as_str()), (2, "B changed"));
    assert_eq!(store.history("b").unwrap()[1].action, "import");
    assert_eq!(store.get("c").unwrap().unwrap().version, 1);
    assert!(store.get("d").unwrap().unwrap().active);
    assert_eq!(store.active().unwrap().len(), 4);
    // Audit: one "import" entry per changed record.
    let imports = store
        .audit(0, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "import")
        .count();
    assert_eq!(imports, 3);
}

#[test]
fn seed_writes_history_per_record_and_one_audit_entry() {
    let mut store = memory();
    let records = [provider("x", "X"), provider("y", "Y"), provider("z", "Z")];
    assert_eq!(store.seed(&records, &ADMIN).unwrap(), 3);
    assert!(!store.is_empty().unwrap());
    assert_eq!(store.active().unwrap().len(), 3);
    assert_eq!(store.history("y").unwrap()[0].action, "seed");
    let audit = store.audit(0, 100).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "seed");
    assert_eq!(audit[0].detail.as_deref(), Some("3 records"));
    // A repeated id: Conflict and nothing stored.
    let mut store = memory();
    let err = store
        .seed(&[provider("x", "X"), provider("x", "X2")], &ADMIN)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    assert!(store.is_empty().unwrap());
}

#[test]
fn audit_records_edits_and_reads_in_order() {
    let mut store = memory();
    store.create(&provider("p1", "P One"), &ADMIN).unwrap();
    store
        .record_reads(&ADVOCATE, &["p1", "p2"], "GET /v1/match")
        .unwrap();
    store.deactivate("p1", None, &ADMIN).unwrap();
    let audit = store.audit(0, 100).unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["create", "read_confidential", "read_confidential", "delete"]
    );
    assert!(audit.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(audit[0].role, Role::Admin);
    assert_eq!(audit[0].before, None);
    assert_eq!(
        audit[0].after,
        Some(serde_json::to_value(provider("p1", "P One")).unwrap())
    );
    assert_eq!(audit[1].actor, "key:alice#2");
    assert_eq!(audit[1].role, Role::Advocate);
    assert_eq!(audit[1].provider_id.as_deref(), Some("p1"));
    assert_eq!(audit[2].provider_id.as_deref(), Some("p2"));
    assert_eq!(audit[2].detail.as_deref(), Some("GET /v1/match"));
    assert!(audit[3].before.is_some() && audit[3].after.is_none());

    // Paging: after a seq, at most limit.
    let page = store.audit(audit[0].seq, 2).unwrap();
    assert_eq!(page, audit[1..3].to_vec());
    assert!(store.audit(audit[3].seq, 10).unwrap().is_empty());
    assert!(store.audit(0, 0).unwrap().is_empty());
}

#[test]
fn approving_a_submission_creates_the_record_once() {
    let mut store = memory();
    let submitted = store
        .submit(&provider("new", "New shelter"), &PUBLIC)
        .unwrap();
    assert_eq!(submitted.status, SubmissionStatus::Pending);
    assert_eq!(submitted.from, "public@127.0.0.1");
    assert_eq!(
        store.submission(submitted.id).unwrap(),
        Some(submitted.clone())
    );
    assert!(store.get("new").unwrap().is_none());

    let (approved, stored) = store
        .approve(submitted.id, &submitted.record, &ADVOCATE)
        .unwrap();
    assert_eq!(approved.status, SubmissionStatus::Approved);
    assert_eq!(approved.provider_id.as_deref(), Some("new"));
    assert_eq!(approved.decided_by.as_deref(), Some("key:alice#2"));
    assert_eq!(store.submission(submitted.id).unwrap(), Some(approved));
    assert_eq!(store.get("new").unwrap(), Some(stored.clone()));
    assert_eq!(stored.version, 1);
    assert_eq!(store.history("new").unwrap()[0].action, "approve");

    let err = store
        .approve(submitted.id, &submitted.record, &ADVOCATE)
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::AlreadyDecided {
                status: SubmissionStatus::Approved,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        store.approve(999, &submitted.record, &ADVOCATE),
        Err(StoreError::NotFound(_))
    ));

    // A submission whose id exists: Conflict, and it stays pending.
    let again = store.submit(&provider("new", "Dup"), &PUBLIC).unwrap();
    assert!(matches!(
        store.approve(again.id, &again.record, &ADVOCATE),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.submission(again.id).unwrap().unwrap().status,
        SubmissionStatus::Pending
    );

    let actions: Vec<String> = store
        .audit(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["submit", "approve", "submit"]);
}

#[test]
fn rejecting_keeps_the_reason_and_lists_filter_by_status() {
    let mut store = memory();
    let first = store.submit(&provider("s1", "One"), &PUBLIC).unwrap();
    let second = store.submit(&provider("s2", "Two"), &PUBLIC).unwrap();
    let rejected = store
        .reject(first.id, "duplicate of p9", &ADVOCATE)
        .unwrap();
    assert_eq!(rejected.status, SubmissionStatus::Rejected);
    assert_eq!(rejected.reason.as_deref(), Some("duplicate of p9"));
    let stored = store.submission(first.id).unwrap().unwrap();
    assert_eq!(stored, rejected);
    assert!(store.get("s1").unwrap().is_none());
    assert!(matches!(
        store.reject(first.id, "again", &ADVOCATE),
        Err(StoreError::AlreadyDecided { .. })
    ));

    let all: Vec<u64> = store
        .submissions(None)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(all, [second.id, first.id]);
    let pending = store.submissions(Some(SubmissionStatus::Pending)).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, second.id);
    let reject_audit = store.audit(0, 100).unwrap().pop().unwrap();
    assert_eq!(reject_audit.action, "reject");
    assert!(reject_audit.detail.unwrap().contains("duplicate of p9"));
}

#[test]
fn submission_status_codes_round_trip() {
    for status in [
        SubmissionStatus::Pending,
        SubmissionStatus::Approved,
        SubmissionStatus::Rejected,
    ] {
        assert_eq!(SubmissionStatus::parse(status.code()), Some(status));
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            serde_json::json!(status.code())
        );
    }
    assert_eq!(SubmissionStatus::parse("maybe"), None);
}

#[test]
fn keys_are_found_by_secret_and_the_secret_is_not_stored() {
    let mut store = memory();
    let (key, secret) = store.create_key("alice", Role::Advocate, &ADMIN).unwrap();
    assert!(secret.starts_with("rmk_"));
    assert_eq!(secret.len(), 44);
    assert!(secret[4..]
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(key.prefix, secret[..8]);
    assert_eq!(key.role, Role::Advocate);

    let found = store.find_key(&secret).unwrap().unwrap();
    assert_eq!(found, key);
    assert_eq!(found.role, Role::Advocate);
    let mut wrong = secret.clone();
    wrong.pop();
    wrong.push(if secret.ends_with('0') { '1' } else { '0' });
    assert_eq!(store.find_key(&wrong).unwrap(), None);
    assert_eq!(store.find_key("").unwrap(), None);
    assert_eq!(store.find_key(&hash_secret(&secret)).unwrap(), None);

    let (_, other) = store.create_key("bob", Role::Admin, &ADMIN).unwrap();
    assert_ne!(other, secret);
    assert_eq!(store.find_key(&other).unwrap().unwrap().role, Role::Admin);

    // No table holds either secret, nor its random part.
    let conn = store.connection();
    for table in ["api_keys", "audit"] {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut cells = 0;
        while let Some(row) = rows.next().unwrap() {
            for column in 0..columns {
                let value: rusqlite::types::Value = row.get(column).unwrap();
                let text = format!("{value:?}");
                for s in [&secret, &other] {
                    assert!(!text.contains(&s[4..]), "{table} holds a secret: {text}");
                }
                cells += 1;
            }
        }
        assert!(cells > 0, "{table} is empty");
    }
    let hash: String = conn
        .query_row("SELECT hash FROM api_keys WHERE name = 'alice'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(hash, hash_secret(&secret));

    // A revoked key is not found.
    conn.execute("UPDATE api_keys SET revoked = 1 WHERE name = 'alice'", [])
        .unwrap();
    assert_eq!(store.find_key(&secret).unwrap(), None);
    let audit = store.audit(0, 10).unwrap();
    assert_eq!(audit[0].action, "key_create");
    assert!(audit[0].detail.as_deref().unwrap().contains("alice"));
    assert!(audit[0].detail.as_deref().unwrap().contains("advocate"));
}

#[test]
fn revoked_keys_are_refused_listed_and_audited_once() {
    let mut store = memory();
    let (alice, alice_secret) = store.create_key("alice", Role::Advocate, &ADMIN).unwrap();
    let (bob, bob_secret) = store.create_key("bob", Role::Admin, &ADMIN).unwrap();
    let (revoked, changed) = store.revoke_key(alice.id, &ADMIN).unwrap();
    assert!(changed);
    assert_eq!(revoked, alice);
    assert_eq!(store.find_key(&alice_secret).unwrap(), None);
    assert_eq!(store.find_key(&bob_secret).unwrap(), Some(bob.clone()));
    // Revoking again changes and logs nothing.
    assert!(!store.revoke_key(alice.id, &ADMIN).unwrap().1);
    let listed = store.keys().unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|l| (l.key.id, l.revoked))
            .collect::<Vec<_>>(),
        [(alice.id, true), (bob.id, false)]
    );
    assert!(matches!(
        store.revoke_key(999, &ADMIN),
        Err(StoreError::NotFound(_))
    ));
    let revokes: Vec<_> = store
        .audit(0, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "key_revoke")
        .collect();
    assert_eq!(revokes.len(), 1);
    assert!(revokes[0].detail.as_deref().unwrap().contains("alice"));
}

#[test]
fn a_file_store_survives_reopening() {
    let dir = TempDir::new("reopen");
    let path = dir.0.join("nested").join("refmatch.sqlite");
    {
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.path(), Some(path.as_path()));
        store.create(&provider("p1", "P One"), &ADMIN).unwrap();
        store
            .update(&provider("p1", "P One v2"), Some(1), &ADMIN)
            .unwrap();
        store.submit(&provider("s1", "S"), &PUBLIC).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let got = store.get("p1").unwrap().unwrap();
    assert_eq!((got.version, got.provider.name.as_str()), (2, "P One v2"));
    assert_eq!(store.history("p1").unwrap().len(), 2);
    assert_eq!(store.submissions(None).unwrap().len(), 1);
    assert_eq!(store.audit(0, 100).unwrap().len(), 3);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let conn = store.connection();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(usize::try_from(version).unwrap(), MIGRATIONS.len());
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let synchronous: i64 = conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(synchronous, 2, "synchronous=FULL");
}

#[test]
fn a_database_from_a_newer_refmatch_is_refused() {
    let dir = TempDir::new("newer");
    let path = dir.0.join("refmatch.sqlite");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1)
            .unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(&err, StoreError::Migration(_)), "{err:?}");
    assert!(err.to_string().contains("newer refmatch"), "{err}");
}

#[test]
fn seeding_many_records_round_trips_in_id_order() {
    // How fast seeding is, is measured in benches/live.rs, not here.
    let dir = TempDir::new("seed");
    let mut store = SqliteStore::open(&dir.0.join("big.sqlite")).unwrap();
    let mut template = provider("x", "Shelter with a fairly long display name");
    template.services = vec!["shelter".into(), "legal aid".into()];
    template.languages = vec!["en".into(), "es".into()];
    let records: Vec<Provider> = (0..10_000)
        .rev()
        .map(|i| {
            let mut p = template.clone();
            p.id = compact_str::format_compact!("p{i:06}");
            p
        })
        .collect();
    assert_eq!(store.seed(&records, &ADMIN).unwrap(), 10_000);
    let active = store.active().unwrap();
    assert_eq!(active.len(), 10_000);
    assert_eq!(active[0].provider.id, "p000000");
    assert_eq!(active[9_999].provider.id, "p009999");
    assert!(active.iter().all(|s| s.version == 1 && s.active));
    assert_eq!(active[17].provider, records[10_000 - 1 - 17]);
}

mod referrals {
    use super::*;
    use crate::model::referral::{
        DeclineReason, Method, NewReferral, ReferralQuery, ReferralView, Status, StatusChange,
        Unmet, UnmetEvent,
    };

    fn new(provider: &str, region: &str) -> NewReferral {
        NewReferral {
            provider_id: provider.to_owned(),
            provider_name: format!("{provider} name"),
            method: Method::WarmTransfer,
            consent: true,
            region: region.to_owned(),
            issue: vec!["labor_trafficking".to_owned()],
            language: vec!["es".to_owned()],
            population: Vec::new(),
            follow_up_due: Some(jiff::civil::date(2026, 12, 5)),
            note: Some("called with the caller on the line".to_owned()),
        }
    }

    fn change(to: Status) -> StatusChange {
        StatusChange {
            to,
            reason: None,
            note: None,
            follow_up_due: None,
        }
    }

    fn query(view: ReferralView, creator: &str) -> ReferralQuery {
        ReferralQuery {
            view,
            creator: creator.to_owned(),
            today: jiff::civil::date(2026, 12, 6),
            provider: None,
            before: None,
            limit: 100,
        }
    }

    #[test]
    fn a_referral_goes_through_its_lifecycle_with_history_notes_and_audit() {
        let mut store = memory();
        let created = store
            .create_referral(&new("p1", "county:06019"), &ADVOCATE)
            .unwrap();
        assert_eq!(created.status, Status::Sent);
        assert_eq!(created.fhir_status, "requested");
        assert_eq!(created.created_by, "key:alice#2");
        assert_eq!(created.history.len(), 1);
        assert_eq!(created.history[0].from, None);
        assert_eq!(created.notes.len(), 1);
        let (before, accepted) = store
            .change_referral(created.id, &change(Status::Accepted), &ADVOCATE)
            .unwrap();
        assert_eq!(before.status, Status::Sent);
        assert_eq!(accepted.status, Status::Accepted);
        let noted = store
            .note_referral(created.id, "intake booked", &ADMIN)
            .unwrap();
        assert_eq!(noted.notes.len(), 2);
        assert_eq!(noted.notes[1].by, "key:admin#1");
        let (_, done) = store
            .change_referral(created.id, &change(Status::Completed), &ADVOCATE)
            .unwrap();
        assert_eq!(done.fhir_status, "completed");
        let moves: Vec<(Option<Status>, Status)> =
            done.history.iter().map(|t| (t.from, t.to)).collect();
        assert_eq!(
            moves,
            [
                (None, Status::Sent),
                (Some(Status::Sent), Status::Accepted),
                (Some(Status::Accepted), Status::Completed)
            ]
        );
        // A finished referral changes no more, and nothing is written.
        let audit_before = store.audit(0, 1000).unwrap().len();
        let err = store
            .change_referral(created.id, &change(Status::Cancelled), &ADVOCATE)
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::InvalidTransition {
                from: Status::Completed,
                to: Status::Cancelled,
                ..
            }
        ));
        assert_eq!(store.audit(0, 1000).unwrap().len(), audit_before);
        assert!(matches!(
            store.change_referral(999, &change(Status::Accepted), &ADVOCATE),
            Err(StoreError::NotFound(_))
        ));
        let actions: Vec<String> = store
            .audit(0, 1000)
            .unwrap()
            .into_iter()
            .filter(|e| e.action.starts_with("referral_"))
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "referral_create",
                "referral_status",
                "referral_note",
                "referral_status"
            ]
        );
        assert_eq!(store.referral(created.id).unwrap(), Some(done));
    }

    #[test]
    fn the_place_stored_is_only_a_region_and_no_caller_identity() {
        let mut store = memory();
        let created = store
            .create_referral(&new("p1", "county:06019"), &ADVOCATE)
            .unwrap();
        store
            .change_referral(
                created.id,
                &StatusChange {
                    reason: Some(DeclineReason::NoCapacity),
                    ..change(Status::Declined)
                },
                &ADVOCATE,
            )
            .unwrap();
        let conn = store.connection();
        let columns = |table: &str| -> Vec<String> {
            let mut stmt = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .unwrap();
            stmt.query_map([], |row| row.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        // Exactly these columns: no place finer than a region, nothing
        // about the caller (a new column must be added here on purpose).
        assert_eq!(
            columns("referrals"),
            [
                "id",
                "provider_id",
                "provider_name",
                "method",
                "consent",
                "status",
                "decline_reason",
                "region",
                "issues",
                "languages",
                "populations",
                "follow_up_due",
                "created_at",
                "created_by",
                "updated_at",
                "accepted_at"
            ]
        );
        assert_eq!(
            columns("unmet_needs"),
            [
                "seq",
                "hour",
                "region",
                "outcome",
                "reason",
                "issues",
                "languages",
                "populations"
            ]
        );
        let region: String = conn
            .query_row("SELECT region FROM referrals", [], |row| row.get(0))
            .unwrap();
        assert_eq!(region, "county:06019");
        // The decline went to the unmet-need log with its reason.
        let unmet = store.unmet().unwrap();
        assert_eq!(unmet.len(), 1);
        assert_eq!(unmet[0].outcome, Unmet::Declined);
        assert_eq!(unmet[0].reason, Some(DeclineReason::NoCapacity));
        assert_eq!(unmet[0].region, "county:06019");
        assert_eq!(unmet[0].hour.len(), 13, "{}", unmet[0].hour);
    }

    #[test]
    fn shift_views_filter_and_page_newest_first() {
        let mut store = memory();
        let mut ids = Vec::new();
        for i in 0..5 {
            let actor = if i % 2 == 0 { ADVOCATE } else { ADMIN };
            let mut referral = new(if i < 3 { "p1" } else { "p2" }, "county:06019");
            if i == 4 {
                referral.follow_up_due = Some(jiff::civil::date(2026, 12, 20));
            }
            ids.push(store.create_referral(&referral, &actor).unwrap().id);
        }
        store
            .change_referral(ids[2], &change(Status::Cancelled), &ADVOCATE)
            .unwrap();
        let got = |q: &ReferralQuery| -> Vec<u64> {
            store.referrals(q).unwrap().iter().map(|r| r.id).collect()
        };
        assert_eq!(
            got(&query(ReferralView::All, "x")),
            [ids[4], ids[3], ids[2], ids[1], ids[0]]
        );
        assert_eq!(
            got(&query(ReferralView::Open, "x")),
            [ids[4], ids[3], ids[1], ids[0]]
        );
        assert_eq!(
            got(&query(ReferralView::Mine, "key:alice#2")),
            [ids[4], ids[0]]
        );
        // Due on 2026-12-06: the ones due on the 5th, not the 20th.
        assert_eq!(
            got(&query(ReferralView::Due, "x")),
            [ids[3], ids[1], ids[0]]
        );
        let mut by_provider = query(ReferralView::All, "x");
        by_provider.provider = Some("p2".to_owned());
        assert_eq!(got(&by_provider), [ids[4], ids[3]]);
        let mut page = query(ReferralView::All, "x");
        page.limit = 2;
        assert_eq!(got(&page), [ids[4], ids[3]]);
        page.before = Some(ids[3]);
        assert_eq!(got(&page), [ids[2], ids[1]]);
        page.before = Some(ids[1]);
        assert_eq!(got(&page), [ids[0]]);
    }

    #[test]
    fn counts_and_reads_come_from_a_reader_of_the_file() {
        let dir = TempDir::new("referrals");
        let mut store = SqliteStore::open(&dir.0.join("store.sqlite")).unwrap();
        let a = store
            .create_referral(&new("p1", "h3:85283473fffffff"), &ADVOCATE)
            .unwrap();
        let b = store
            .create_referral(&new("p1", "country:PE"), &ADVOCATE)
            .unwrap();
        store
            .create_referral(&new("p2", "state:CA"), &ADVOCATE)
            .unwrap();
        store
            .change_referral(a.id, &change(Status::Accepted), &ADVOCATE)
            .unwrap();
        store
            .change_referral(a.id, &change(Status::Cancelled), &ADVOCATE)
            .unwrap();
        store
            .change_referral(
                b.id,
                &StatusChange {
                    reason: Some(DeclineReason::OutOfArea),
                    ..change(Status::Declined)
                },
                &ADVOCATE,
            )
            .unwrap();
        store
            .record_unmet(&[UnmetEvent {
                hour: "2026-12-03T18".to_owned(),
                region: "county:06019".to_owned(),
                outcome: Unmet::None,
                reason: None,
                issues: vec!["trafficking".to_owned()],
                languages: Vec::new(),
                populations: Vec::new(),
            }])
            .unwrap();
        let mut counts = crate::model::referral::ReferralCounts::default();
        for (provider, day, c) in store
            .referral_counts(jiff::civil::date(2000, 1, 1))
            .unwrap()
        {
            counts.add(&provider, day, c);
        }
        let today = crate::model::referral::epoch_day(
            jiff::tz::TimeZone::UTC
                .to_datetime(jiff::Timestamp::now())
                .date(),
        );
        let p1 = counts.stats("p1", today);
        // Accepted then cancelled still counts as accepted.
        assert_eq!((p1.sent, p1.accepted, p1.declined), (2, 1, 1));
        assert_eq!(counts.stats("p2", today).acceptance_rate, None);
        let reader = store.reader().unwrap().unwrap();
        assert_eq!(
            reader.referral(a.id).unwrap(),
            store.referral(a.id).unwrap()
        );
        assert_eq!(
            reader
                .referrals(&query(ReferralView::All, "x"))
                .unwrap()
                .len(),
            3
        );
        let unmet = reader.unmet().unwrap();
        assert_eq!(unmet.len(), 2);
        assert_eq!(unmet[1].outcome, Unmet::None);
    }
}

/// A store written before provider keys (schema version 1) opens, its
/// keys still work and are bound to no record; a provider key made
/// afterwards keeps its records through find_key, keys and revoke.
#[test]
fn keys_of_a_version_1_store_survive_the_records_migration() {
    let dir = TempDir::new("keys-v1");
    let path = dir.0.join("refmatch.sqlite");
    let secret = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let secret = format!("{KEY_PREFIX}{}", "ab".repeat(20));
        conn.execute(
            "INSERT INTO api_keys (name, role, hash, prefix, created_at)
             VALUES ('old desk', 'advocate', ?1, 'rmk_abab', '2026-01-01T00:00:00Z')",
            [hash_secret(&secret)],
        )
        .unwrap();
        secret
    };
    let mut store = SqliteStore::open(&path).unwrap();
    let old = store.find_key(&secret).unwrap().unwrap();
    assert_eq!((old.role, old.records.len()), (Role::Advocate, 0));
    let records = vec!["casa-x".to_owned(), "casa-y".to_owned()];
    let (made, provider_secret) = store
        .create_key_for("Casa X desk", Role::Provider, &records, &ADMIN)
        .unwrap();
    assert_eq!(made.records, records);
    let found = store.find_key(&provider_secret).unwrap().unwrap();
    assert_eq!((found.role, &found.records), (Role::Provider, &records));
    let listed = store.keys().unwrap();
    assert_eq!(listed[1].key.records, records);
    let (revoked, _) = store.revoke_key(made.id, &ADMIN).unwrap();
    assert_eq!(revoked.records, records);
    let audit = store.audit(0, 100).unwrap();
    assert!(audit.iter().any(|e| e
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("records casa-x,casa-y"))));
}
