//! `myzoo zk-backup import`: an exported JSON file into the store as a new snapshot (origin
//! `import`, its checksum the original's). It changes the store, so read-only mode refuses it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{failed, refuse_read_only, resolved, store_or_exit};
use crate::backup::export::{self, ImportOptions};
use crate::backup::Want;
use crate::cli::ConsoleArgs;
use crate::commands::out;
use crate::ops::actor::Actor;

pub async fn run(console: &ConsoleArgs, input: PathBuf, note: String, json: bool) -> anyhow::Result<ExitCode> {
    let r = resolved(console)?;
    if let Some(code) = refuse_read_only(&r, "import") {
        return Ok(code);
    }
    // Open the file first: a wrong name should not cost a store connection.
    let mut reader: Box<dyn tokio::io::AsyncBufRead + Unpin + Send> = if input == Path::new("-") {
        Box::new(tokio::io::BufReader::with_capacity(1 << 20, tokio::io::stdin()))
    } else {
        match tokio::fs::File::open(&input).await {
            Ok(f) => Box::new(tokio::io::BufReader::with_capacity(1 << 20, f)),
            Err(e) => {
                eprintln!("myzoo: {}: {e}", input.display());
                return Ok(ExitCode::from(super::EXIT_FAILED));
            }
        }
    };
    let mut store = match store_or_exit(&r, Want::Write).await {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let actor = Actor::from_env();
    let opts = ImportOptions { note, operator: actor.user, host: actor.host };
    let meta = match export::import(&mut store, &mut reader, &opts).await {
        Ok(m) => m,
        Err(e) => return Ok(failed(&e)),
    };
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(&meta)?));
    } else {
        out(&format!(
            "imported as snapshot {}: {} znodes of {}, checksum {}\n",
            meta.id,
            meta.znodes,
            meta.root,
            meta.checksum.as_deref().unwrap_or("-")
        ));
    }
    Ok(ExitCode::SUCCESS)
}
