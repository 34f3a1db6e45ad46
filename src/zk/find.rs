//! Searching a whole subtree by znode name and data: a breadth-first walk of multi-reads
//! (data and children of hundreds of paths per round trip, several in flight) that streams
//! its matches and keeps only the next level's paths in memory. Znodes that cannot be read
//! (NoAuth, a reply the server or client refuses) are reported, never silently dropped.

use futures::stream::{self, StreamExt};
use regex::Regex;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Client, Error as ZkError, MultiReadResult};

use super::load::{LoadError, MULTI_READ_BATCH, MULTI_READ_IN_FLIGHT};
use super::{child_path, describe_error, NodeStat};

/// Characters of data shown around a data match.
pub const SNIPPET_CHARS: usize = 60;

/// What to look for; with neither, every znode matches.
#[derive(Debug, Clone, Default)]
pub struct FindQuery {
    /// Matched against the znode's name (its last path segment).
    pub name: Option<Regex>,
    /// Matched against the data as text (lossy UTF-8).
    pub data: Option<Regex>,
    /// Matched against the name or the data (either will do): the console's `:find`.
    pub any: Option<Regex>,
    /// Only znodes whose data holds password-like keys in plain text
    /// ([`crate::secrets::plain_text_secrets`]); the snippet names the keys, never the values
    /// (`myzoo zk secrets`, `:secrets`).
    pub secrets: bool,
}

impl FindQuery {
    /// The snippet of data that matched (`Some("")` for a name-only match), or `None`.
    fn matches(&self, path: &str, data: &[u8]) -> Option<String> {
        if self.secrets {
            let keys = crate::secrets::plain_text_secrets(data);
            if keys.is_empty() || self.name.as_ref().is_some_and(|re| !re.is_match(super::base_name(path))) {
                return None;
            }
            return Some(keys.join(", "));
        }
        if let Some(re) = &self.name {
            if !re.is_match(super::base_name(path)) {
                return None;
            }
        }
        if let Some(re) = &self.any {
            if re.is_match(super::base_name(path)) {
                return self.data.as_ref().map_or(Some(String::new()), |d| data_match(d, data));
            }
            data_match(re, data)?;
        }
        match &self.data {
            None => Some(self.any.as_ref().and_then(|re| data_match(re, data)).unwrap_or_default()),
            Some(re) => data_match(re, data),
        }
    }
}

/// The snippet where `re` matches the data. Secrets are masked before matching: a search must
/// not show them, nor confirm a guess of one.
fn data_match(re: &Regex, data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let text = crate::secrets::mask_json(&text).map_or(text, std::borrow::Cow::Owned);
    re.find(&text).map(|m| snippet(&text, m.start(), m.end()))
}

/// The matched text with a little context, on one line.
fn snippet(text: &str, start: usize, end: usize) -> String {
    let before: String =
        text[..start].chars().rev().take(SNIPPET_CHARS / 3).collect::<Vec<_>>().into_iter().rev().collect();
    let matched: String = text[start..end].chars().take(SNIPPET_CHARS).collect();
    let after: String = text[end..].chars().take(SNIPPET_CHARS / 3).collect();
    format!("{before}{matched}{after}").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One result of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Match {
        path: String,
        stat: NodeStat,
        snippet: String,
    },
    /// Its data or children could not be read (the subtree below is not searched).
    Unreadable {
        path: String,
        reason: String,
    },
}

/// Counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FindProgress {
    pub read: u64,
    pub matched: u64,
    pub unreadable: u64,
}

/// Walks `root` and everything below, calling `found` for each match or unreadable znode and
/// `progress` after every batch. Stops early (returning what it has) when `cancel` fires.
pub async fn find(
    client: &Client,
    root: &str,
    query: &FindQuery,
    cancel: &CancellationToken,
    mut found: impl FnMut(Found),
    mut progress: impl FnMut(FindProgress),
) -> Result<FindProgress, LoadError> {
    let mut counts = FindProgress::default();
    let mut frontier = vec![root.to_string()];
    while !frontier.is_empty() && !cancel.is_cancelled() {
        let batches: Vec<Vec<String>> =
            std::mem::take(&mut frontier).chunks(MULTI_READ_BATCH / 2).map(<[String]>::to_vec).collect();
        let mut level = stream::iter(batches).map(|batch| read_batch(client, batch)).buffered(MULTI_READ_IN_FLIGHT);
        loop {
            let batch = tokio::select! {
                _ = cancel.cancelled() => return Ok(counts),
                b = level.next() => b,
            };
            let Some(batch) = batch else { break };
            for entry in batch? {
                match entry {
                    Entry::Read { path, stat, data, children } => {
                        counts.read += 1;
                        if let Some(snippet) = query.matches(&path, &data) {
                            counts.matched += 1;
                            found(Found::Match { path: path.clone(), stat, snippet });
                        }
                        frontier.extend(children.iter().map(|c| child_path(&path, c)));
                    }
                    Entry::Unreadable { path, reason } => {
                        counts.unreadable += 1;
                        found(Found::Unreadable { path, reason });
                    }
                    Entry::Gone => {}
                }
            }
            progress(counts);
        }
    }
    Ok(counts)
}

enum Entry {
    Read {
        path: String,
        stat: NodeStat,
        data: Vec<u8>,
        children: Vec<String>,
    },
    Unreadable {
        path: String,
        reason: String,
    },
    /// Deleted between the listing and the read.
    Gone,
}

/// Data and children of a batch in one multi-read. When the whole request is refused (a
/// reply too big to marshal, say) the batch is split in halves down to single znodes, so one
/// bad znode costs itself, not its neighbours; a lost connection ends the walk with an error.
fn read_batch(
    client: &Client,
    batch: Vec<String>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Entry>, LoadError>> + Send + '_>> {
    Box::pin(async move {
        let mut reader = client.new_multi_reader();
        for p in &batch {
            reader.add_get_data(p).map_err(|e| load_error(p, e))?;
            reader.add_get_children(p).map_err(|e| load_error(p, e))?;
        }
        let results = match reader.commit().await {
            Ok(r) => r,
            // No connection: the walk cannot go on (and must not call everything unreadable).
            Err(e) if super::is_transient(&e) => return Err(load_error(&batch[0], e)),
            Err(e) if batch.len() == 1 => {
                return Ok(vec![Entry::Unreadable { path: batch[0].clone(), reason: describe_error(&e) }]);
            }
            Err(_) => {
                let half = batch.len() / 2;
                let (a, b) = batch.split_at(half);
                let mut out = read_batch(client, a.to_vec()).await?;
                out.extend(read_batch(client, b.to_vec()).await?);
                return Ok(out);
            }
        };
        let mut out = Vec::with_capacity(batch.len());
        let mut it = results.into_iter();
        for path in batch {
            let (Some(d), Some(c)) = (it.next(), it.next()) else { break };
            out.push(match (d, c) {
                (MultiReadResult::Data { data, stat }, MultiReadResult::Children { mut children }) => {
                    children.sort_unstable();
                    Entry::Read { path, stat: NodeStat::from(&stat), data, children }
                }
                (MultiReadResult::Error { err: ZkError::NoNode }, _)
                | (_, MultiReadResult::Error { err: ZkError::NoNode }) => Entry::Gone,
                (MultiReadResult::Error { err }, _) | (_, MultiReadResult::Error { err }) => {
                    Entry::Unreadable { path, reason: describe_error(&err) }
                }
                _ => Entry::Unreadable { path, reason: "unexpected reply".into() },
            });
        }
        Ok(out)
    })
}

fn load_error(path: &str, e: ZkError) -> LoadError {
    LoadError { path: path.to_string(), message: describe_error(&e), source: Some(e) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_data_queries() {
        let q = FindQuery {
            name: Some(Regex::new("^db").unwrap()),
            data: Some(Regex::new("3306").unwrap()),
            ..FindQuery::default()
        };
        assert_eq!(q.matches("/c/nodes/db1", br#"{"port": 3306}"#).as_deref(), Some(r#"{"port": 3306}"#));
        assert_eq!(q.matches("/c/nodes/web1", br#"{"port": 3306}"#), None, "name does not match");
        assert_eq!(q.matches("/c/nodes/db1", br#"{"port": 3307}"#), None, "data does not match");
        assert_eq!(FindQuery::default().matches("/x", b""), Some(String::new()), "no query: everything");
        let any = FindQuery { any: Some(Regex::new("db7").unwrap()), ..FindQuery::default() };
        assert_eq!(any.matches("/c/db7", b"x").as_deref(), Some(""), "by name");
        assert_eq!(any.matches("/c/x", b"host db7").as_deref(), Some("host db7"), "by data");
        assert_eq!(any.matches("/c/x", b"host db8"), None);
        let secret = br#"{"user": "repl", "password": "hunter2"}"#;
        let q = |re: &str| FindQuery { data: Some(Regex::new(re).unwrap()), ..FindQuery::default() };
        assert_eq!(q("hunter2").matches("/x", secret), None, "a guess of a secret is not confirmed");
        assert!(q("repl").matches("/x", secret).is_some_and(|s| !s.contains("hunter2")), "no secret in snippets");
        let long = format!("{}host=db7.internal{}", "a".repeat(200), "b".repeat(200));
        let s =
            FindQuery { data: Some(Regex::new("db7").unwrap()), ..FindQuery::default() }.matches("/x", long.as_bytes());
        let s = s.unwrap();
        assert!(s.contains("host=db7.internal") && s.chars().count() < 100, "{s}");
        let secrets = FindQuery { secrets: true, ..FindQuery::default() };
        assert_eq!(secrets.matches("/c/config", secret).as_deref(), Some("/password"), "keys, never values");
        assert_eq!(secrets.matches("/c/config", br#"{"password_file": "/etc/x"}"#), None);
    }
}
