//! Unsaved edits kept in the state folder (`drafts/`), so a conflict, a dropped connection or
//! an accidental quit never loses an operator's work. One JSON file per znode path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub path: String,
    /// The znode version the edit started from.
    pub base_version: i32,
    /// The stored text the edit started from.
    pub original: String,
    /// The edited text.
    pub text: String,
    pub saved_at_ms: i64,
}

/// The drafts folder of one ensemble: `<drafts>/<key>/`, where the key is a digest of the
/// connect string with its hosts in sorted order and its chroot, so the same path on another
/// ensemble (or under another chroot) never picks up this one's draft. The folder records the
/// connect string in `ensemble.txt` for whoever looks inside.
pub fn ensemble_dir(drafts: &Path, connect: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let (hosts, chroot) = match connect.find('/') {
        Some(i) => (&connect[..i], connect[i..].trim_end_matches('/')),
        None => (connect, ""),
    };
    let mut members: Vec<String> =
        hosts.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
    members.sort();
    members.dedup();
    let normalized = format!("{}{chroot}", members.join(","));
    let digest = Sha256::digest(normalized.as_bytes());
    let key: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    drafts.join(key)
}

/// Writes `ensemble.txt` (the connect string) into an ensemble's drafts folder, once.
pub fn label_ensemble_dir(dir: &Path, connect: &str) -> std::io::Result<()> {
    let label = dir.join(ENSEMBLE_LABEL_FILE);
    if label.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(label, format!("{connect}\n"))
}

/// Names the ensemble a drafts folder belongs to.
pub const ENSEMBLE_LABEL_FILE: &str = "ensemble.txt";

/// `drafts/%2Fmyzoo%2Fclusters%2Fmain%2Fconfig.json`: the path, reversibly escaped.
pub fn file_for(dir: &Path, znode: &str) -> PathBuf {
    let mut name = String::with_capacity(znode.len() + 8);
    for c in znode.chars() {
        match c {
            '/' => name.push_str("%2F"),
            '%' => name.push_str("%25"),
            c => name.push(c),
        }
    }
    name.push_str(".json");
    dir.join(name)
}

/// Writes the draft (small files, written whole through a temporary name).
pub fn save(dir: &Path, draft: &Draft) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let file = file_for(dir, &draft.path);
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(draft)?)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Drafts may hold configuration an operator would not leave world-readable.
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(tmp, file)
}

/// The draft for a znode, if one is kept; an unreadable draft file is reported, not hidden.
pub fn load(dir: &Path, znode: &str) -> std::io::Result<Option<Draft>> {
    match std::fs::read(file_for(dir, znode)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(std::io::Error::other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn remove(dir: &Path, znode: &str) -> std::io::Result<()> {
    match std::fs::remove_file(file_for(dir, znode)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_kept_per_ensemble_and_chroot() {
        let d = Path::new("/state/drafts");
        let a = ensemble_dir(d, "zk1:2181,zk2:2181,zk3:2181");
        assert_eq!(a, ensemble_dir(d, "ZK3:2181, zk1:2181,zk2:2181"), "member order and case do not matter");
        assert_ne!(a, ensemble_dir(d, "zk9:2181,zk2:2181,zk3:2181"), "another ensemble");
        assert_ne!(a, ensemble_dir(d, "zk1:2181,zk2:2181,zk3:2181/mysql"), "a chroot is another tree");
        assert_eq!(ensemble_dir(d, "zk1:2181/mysql/"), ensemble_dir(d, "zk1:2181/mysql"));
        assert!(a.starts_with(d));
    }

    #[test]
    fn round_trip_and_escaping() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(file_for(dir.path(), "/a/b%c").file_name().unwrap(), "%2Fa%2Fb%25c.json");
        let d = Draft { path: "/a".into(), base_version: 3, original: "x".into(), text: "y".into(), saved_at_ms: 1 };
        assert_eq!(load(dir.path(), "/a").unwrap(), None);
        save(dir.path(), &d).unwrap();
        assert_eq!(load(dir.path(), "/a").unwrap(), Some(d));
        remove(dir.path(), "/a").unwrap();
        assert_eq!(load(dir.path(), "/a").unwrap(), None);
        remove(dir.path(), "/a").unwrap();
        std::fs::write(file_for(dir.path(), "/bad"), b"{").unwrap();
        assert!(load(dir.path(), "/bad").is_err());
    }
}
