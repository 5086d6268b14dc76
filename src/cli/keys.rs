//! `refmatch keys create/list/revoke`: API keys in the store of record
//! (only their SHA-256 is kept; a secret is printed once, on creation).

use super::DEFAULT_STORE;
use clap::Subcommand;
use refmatch::model::Role;
use refmatch::render::table::write_keys_table;
use refmatch::store::keys::{open_key_store, require_store, NewKey, NewKeyError};
use refmatch::store::{Actor, Store, StoreError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub(super) enum KeysAction {
    /// Create a key and print it once (only its SHA-256 is stored).
    Create {
        /// provider (reads as the public; sets capacity and hours of its
        /// --records only), advocate (reads everything, decides submissions,
        /// sets capacity) or admin (also edits).
        #[arg(long)]
        role: String,
        /// Who or what the key is for; shown in the audit log and as a
        /// capacity figure's updated_by.
        #[arg(long)]
        name: String,
        /// For --role provider: the record ids the key may change, comma
        /// separated (each must exist in the store).
        #[arg(long, value_delimiter = ',')]
        records: Vec<String>,
        /// The store of record, as for `serve --store`.
        #[arg(long, env = "REFMATCH_STORE", default_value = DEFAULT_STORE)]
        store: PathBuf,
        /// Create the store when there is none at --store (without it, a
        /// missing store is an error: a key in a new empty store is one the
        /// running server does not know).
        #[arg(long)]
        init: bool,
    },
    /// List every key issued: number, first characters, name, role,
    /// created, revoked (never a secret).
    List {
        /// The store of record, as for `serve --store`.
        #[arg(long, env = "REFMATCH_STORE", default_value = DEFAULT_STORE)]
        store: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its number (see `keys list`): it is refused from
    /// then on; a running server stops accepting it within
    /// `serve --key-cache-seconds`.
    Revoke {
        /// The key's number.
        id: u64,
        /// The store of record, as for `serve --store`.
        #[arg(long, env = "REFMATCH_STORE", default_value = DEFAULT_STORE)]
        store: PathBuf,
    },
}

/// Who the audit log says created or revoked a key from the command line.
const OPERATOR: Actor<'static> = Actor {
    name: "cli:keys",
    role: Role::Admin,
};

/// Runs one `keys` command: exit 0 when done, 2 for a malformed option or
/// an unknown key number; a missing store is an error (exit 1).
pub(super) fn run(action: KeysAction) -> anyhow::Result<ExitCode> {
    match action {
        KeysAction::Create {
            role,
            name,
            records,
            store,
            init,
        } => create(&role, &name, &records, &store, init),
        KeysAction::List { store, json } => list(&store, json),
        KeysAction::Revoke { id, store } => revoke(id, &store),
    }
}

/// `keys create`: prints the secret on stdout, what was made on stderr.
fn create(
    role: &str,
    name: &str,
    records: &[String],
    store: &Path,
    init: bool,
) -> anyhow::Result<ExitCode> {
    if !init {
        require_store(store)?;
    }
    let new_key = match NewKey::parse_for(role, name, records) {
        Ok(new_key) => new_key,
        Err(NewKeyError::Role(given)) => {
            eprintln!("error: --role must be provider, advocate or admin, got '{given}'");
            return Ok(ExitCode::from(2));
        }
        Err(NewKeyError::EmptyName) => {
            eprintln!("error: --name must say who the key is for");
            return Ok(ExitCode::from(2));
        }
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut opened = open_key_store(store)?;
    let (key, secret) = match new_key.issue(&mut opened, &OPERATOR) {
        Ok(issued) => issued,
        Err(StoreError::NotFound(what)) => {
            eprintln!(
                "error: --records: {what} is not in {}; a provider key is bound to records the \
                 store holds",
                store.display()
            );
            return Ok(ExitCode::from(2));
        }
        Err(error) => return Err(error.into()),
    };
    let bound = if key.records.is_empty() {
        String::new()
    } else {
        format!(" for records {}", key.records.join(", "))
    };
    eprintln!(
        "created key #{} '{}' with role {}{bound} in {}; it is shown once, keep it safe:",
        key.id,
        key.name,
        key.role,
        store.display()
    );
    println!("{secret}");
    Ok(ExitCode::SUCCESS)
}

/// `keys list`: a table, or JSON with `--json`.
fn list(store: &Path, json: bool) -> anyhow::Result<ExitCode> {
    require_store(store)?;
    let opened = open_key_store(store)?;
    let keys = opened.keys()?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&keys)?)?;
    } else {
        write_keys_table(&mut out, &keys)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `keys revoke`: says on stderr what was revoked (or that it already
/// was).
fn revoke(id: u64, store: &Path) -> anyhow::Result<ExitCode> {
    require_store(store)?;
    let mut opened = open_key_store(store)?;
    match opened.revoke_key(id, &OPERATOR) {
        Ok((key, true)) => {
            eprintln!(
                "revoked key #{} '{}' ({}); a running server refuses it within its --key-cache-seconds",
                key.id, key.name, key.role
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok((key, false)) => {
            eprintln!("key #{} '{}' was already revoked", key.id, key.name);
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::NotFound(_)) => {
            eprintln!(
                "error: there is no key #{id} in {}; `refmatch keys list` shows the numbers",
                store.display()
            );
            Ok(ExitCode::from(2))
        }
        Err(error) => Err(error.into()),
    }
}
