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
