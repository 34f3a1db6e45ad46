//! `myzoo zk-backup export`: a snapshot as a portable JSON file (format in `backup::export`).
//! A file is written beside its final name and renamed into place only when complete.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{failed, resolved, store_or_exit};
use crate::backup::{export, Want};
use crate::cli::ConsoleArgs;
use crate::commands::out;

pub async fn run(console: &ConsoleArgs, id: u64, file: PathBuf) -> anyhow::Result<ExitCode> {
    let r = resolved(console)?;
    let mut store = match store_or_exit(&r, Want::Read).await {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if file == Path::new("-") {
        let mut stdout = tokio::io::stdout();
        return Ok(match export::export(&mut store, id, &mut stdout).await {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => failed(&e),
        });
    }
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    let partial = file.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let result = async {
        let mut f = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", partial.display()))?;
        let meta = export::export(&mut store, id, &mut f).await?;
        f.sync_all().await?;
        tokio::fs::rename(&partial, &file).await.map_err(|e| anyhow::anyhow!("renaming to {}: {e}", file.display()))?;
        Ok::<_, anyhow::Error>(meta)
    }
    .await;
    match result {
        Ok(meta) => {
            out(&format!("snapshot {} ({} znodes) exported to {}\n", meta.id, meta.znodes, file.display()));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            Ok(failed(&e))
        }
    }
}
