//! One run of a dump program as a pipeline, like `mariadb-dump | tee >(zstd) | scan`: a reader
//! takes the program's output in chunks and hands each to a compressor (zstd into the
//! partial file, SHA-256 over the compressed bytes) and to the scanner (`scan`), each on its
//! own blocking thread with bounded queues, so dump, compression and scanning overlap and the
//! slowest of them sets the pace. Cancelling kills the program; the caller removes the file.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::scan::{ScanResult, Scanner};
use super::tool::PASSWORD_ENV;

/// Bytes read from the program at a time.
const CHUNK_BYTES: usize = 256 << 10;
/// Chunks queued for each of the compressor and the scanner (back-pressure beyond that).
const QUEUE_CHUNKS: usize = 16;
/// How often the caller hears about progress.
pub const PROGRESS_INTERVAL_MS: u64 = 250;
/// zstd level: the `zstd` command's default, a good speed/size balance for SQL text.
pub const ZSTD_LEVEL: i32 = 3;
/// Bytes of the program's standard error kept for the error message.
const STDERR_KEEP_BYTES: usize = 8 << 10;
/// Output buffer in front of the dump file.
const FILE_BUFFER_BYTES: usize = 1 << 20;
/// Written bytes after which their write-back to disk is started (without waiting), so the
/// final fsync finds little left and the disk works while the dump runs.
const WRITEBACK_BYTES: u64 = 16 << 20;

/// Figures that grow while the pipeline runs (read by the progress ticker).
#[derive(Debug, Default)]
pub struct Live {
    pub raw_bytes: AtomicU64,
    pub compressed_bytes: AtomicU64,
    pub tables_done: AtomicU64,
}

/// What to run and where its output goes.
pub struct StreamSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Handed to the child in `MYSQL_PWD`.
    pub password: Option<String>,
    /// The compressed file to write; `None` only scans (verify's second dump).
    pub out: Option<PathBuf>,
}

/// What a finished run produced.
#[derive(Debug, Clone)]
pub struct StreamResult {
    pub raw_bytes: u64,
    pub compressed_bytes: u64,
    /// SHA-256 of the compressed file, hex (`None` without a file).
    pub sha256: Option<String>,
    pub scan: ScanResult,
}

pub enum StreamEnd {
    Done(StreamResult),
    Cancelled,
}

/// Runs `spec` to its end, calling `tick` every [`PROGRESS_INTERVAL_MS`].
pub async fn run(
    spec: StreamSpec,
    live: Arc<Live>,
    tick: &(dyn Fn() + Send + Sync),
    cancel: &CancellationToken,
) -> Result<StreamEnd> {
    let name = spec
        .program
        .file_name()
        .map_or_else(|| spec.program.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    match &spec.password {
        Some(p) => cmd.env(PASSWORD_ENV, p),
        None => cmd.env_remove(PASSWORD_ENV),
    };
    let mut child = cmd.spawn().with_context(|| format!("starting {}", spec.program.display()))?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        bail!("{name}: no pipes to its output");
    };

    let stderr_task = tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            if all.len() > 2 * STDERR_KEEP_BYTES {
                all.drain(..all.len() - STDERR_KEEP_BYTES);
            }
        }
        String::from_utf8_lossy(&all).trim().to_string()
    });

    let (scan_tx, scan_rx) = sync_channel::<Arc<Vec<u8>>>(QUEUE_CHUNKS);
    let scan_live = live.clone();
    let scan_task = tokio::task::spawn_blocking(move || scan_loop(scan_rx, &scan_live));

    let (file_tx, compress_task) = match spec.out.clone() {
        Some(path) => {
            let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(QUEUE_CHUNKS);
            let c_live = live.clone();
            (Some(tx), Some(tokio::task::spawn_blocking(move || compress_loop(rx, path, &c_live))))
        }
        None => (None, None),
    };

    let r_live = live.clone();
    let mut reader = tokio::task::spawn_blocking(move || -> Result<u64> {
        let mut total = 0u64;
        loop {
            // Filled up to a whole chunk (fewer, larger hand-overs), never zeroed first.
            let mut buf = Vec::with_capacity(CHUNK_BYTES);
            let n = match (&mut stdout).take(CHUNK_BYTES as u64).read_to_end(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Err(e).context("reading the dump's output"),
            };
            total += n as u64;
            r_live.raw_bytes.store(total, Ordering::Relaxed);
            let chunk = Arc::new(buf);
            if let Some(tx) = &file_tx {
                // A closed queue: the compressor stopped on an error it reports itself.
                if tx.send(chunk.clone()).is_err() {
                    break;
                }
            }
            if scan_tx.send(chunk).is_err() {
                break;
            }
        }
        Ok(total)
    });

    let mut cancelled = false;
    let mut ticker = tokio::time::interval(Duration::from_millis(PROGRESS_INTERVAL_MS));
    let read = loop {
        tokio::select! {
            r = &mut reader => break r,
            _ = cancel.cancelled(), if !cancelled => {
                cancelled = true;
                if let Err(e) = child.kill() {
                    tracing::warn!("stopping {name}: {e}");
                }
            }
            _ = ticker.tick() => tick(),
        }
    };
    let compressed = match compress_task {
        Some(t) => Some(t.await.context("the compressor stopped")?),
        None => None,
    };
    let scan = scan_task.await.context("the scanner stopped")?;
    let read = read.context("the reader stopped")?;
    // A compressor that failed (disk full …) stops the reader early: the program must not
    // block on a full pipe.
    if matches!(compressed, Some(Err(_))) || read.is_err() {
        let _ = child.kill();
    }
    let status = tokio::task::spawn_blocking(move || child.wait()).await.context("waiting for the dump")??;
    let err_text = stderr_task.await.unwrap_or_default();
    tick();
    if cancelled {
        return Ok(StreamEnd::Cancelled);
    }
    let raw_bytes = read?;
    let (compressed_bytes, sha256) = match compressed {
        Some(c) => {
            let (n, sum) = c?;
            (n, Some(sum))
        }
        None => (0, None),
    };
    if !status.success() {
        let last: Vec<&str> = err_text.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        bail!(
            "{name} failed ({status}): {}",
            if last.is_empty() { "no message".to_string() } else { last.join(" / ") }
        );
    }
    if !err_text.is_empty() {
        tracing::warn!("{name}: {err_text}");
    }
    Ok(StreamEnd::Done(StreamResult { raw_bytes, compressed_bytes, sha256, scan }))
}

fn scan_loop(rx: Receiver<Arc<Vec<u8>>>, live: &Live) -> ScanResult {
    let mut scanner = Scanner::new();
    for chunk in rx {
        scanner.feed(&chunk);
        live.tables_done.store(scanner.data_sections(), Ordering::Relaxed);
    }
    scanner.finish()
}

/// Counts and hashes what passes to the file.
struct HashingWriter<'a, W: Write> {
    inner: W,
    sha: Sha256,
    bytes: u64,
    live: &'a Live,
    /// The file, for starting write-back; the offset up to which it was started.
    fd: std::os::unix::io::RawFd,
    flushed: u64,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        self.live.compressed_bytes.store(self.bytes, Ordering::Relaxed);
        if self.bytes - self.flushed >= WRITEBACK_BYTES + FILE_BUFFER_BYTES as u64 {
            // What the buffer holds is not in the file yet: start write-back short of it.
            let upto = self.bytes - FILE_BUFFER_BYTES as u64;
            // SAFETY: sync_file_range(2) on our own open descriptor; SYNC_FILE_RANGE_WRITE only
            // starts write-back of the range and never blocks on it. A failure only costs time.
            unsafe {
                libc::sync_file_range(
                    self.fd,
                    self.flushed as libc::off64_t,
                    (upto - self.flushed) as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
            self.flushed = upto;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn compress_loop(rx: Receiver<Arc<Vec<u8>>>, path: PathBuf, live: &Live) -> Result<(u64, String)> {
    use std::os::unix::fs::OpenOptionsExt;
    // The dump holds every row of the cluster: only its owner may read it.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    let fd = std::os::unix::io::AsRawFd::as_raw_fd(&file);
    let writer = HashingWriter {
        inner: std::io::BufWriter::with_capacity(FILE_BUFFER_BYTES, file),
        sha: Sha256::new(),
        bytes: 0,
        live,
        fd,
        flushed: 0,
    };
    let mut encoder = zstd::stream::write::Encoder::new(writer, ZSTD_LEVEL).context("starting zstd")?;
    for chunk in rx {
        encoder.write_all(&chunk).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut writer = encoder.finish().with_context(|| format!("finishing {}", path.display()))?;
    writer.flush().with_context(|| format!("writing {}", path.display()))?;
    let bytes = writer.bytes;
    let sum = hex(&writer.sha.finalize());
    let file =
        writer.inner.into_inner().map_err(|e| e.into_error()).with_context(|| format!("writing {}", path.display()))?;
    file.sync_all().with_context(|| format!("syncing {}", path.display()))?;
    Ok((bytes, sum))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file, hex (verify's first check), read on a blocking thread.
pub async fn file_sha256(path: PathBuf) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let mut sha = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).with_context(|| format!("reading {}", path.display()))?;
            if n == 0 {
                break;
            }
            sha.update(&buf[..n]);
        }
        Ok(hex(&sha.finalize()))
    })
    .await
    .context("hashing the dump file")?
}
