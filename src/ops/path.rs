//! Which znode paths an operator may write: absolute, no empty or `.`/`..` segment, no trailing
//! slash, nothing under ZooKeeper's own `/zookeeper`.

/// ZooKeeper's own subtree (quotas, config): never written from myzoo.
pub const ZK_SYSTEM_PATH: &str = "/zookeeper";

/// Whether `path` is ZooKeeper's own subtree (read-only for myzoo).
pub fn is_system(path: &str) -> bool {
    path == ZK_SYSTEM_PATH || path.starts_with("/zookeeper/")
}

/// Why ZooKeeper's own znodes are shown read-only.
pub const SYSTEM_READ_ONLY_REASON: &str =
    "/zookeeper is ZooKeeper's own subtree (quotas, ensemble config): read-only in myzoo";

/// Checks a path for any mutation; `Err` carries the reason for the operator.
pub fn validate_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("{path:?} is not absolute: znode paths start with /"));
    }
    if path == "/" {
        return Ok(());
    }
    if path.ends_with('/') {
        return Err(format!("{path:?} ends with /"));
    }
    for segment in path[1..].split('/') {
        if segment.is_empty() {
            return Err(format!("{path:?} has an empty segment (//)"));
        }
        if segment == "." || segment == ".." {
            return Err(format!("{path:?} has a {segment:?} segment: ZooKeeper paths have no relative parts"));
        }
        if segment.chars().any(|c| c == '\0' || ('\u{1}'..='\u{1f}').contains(&c) || c == '\u{7f}') {
            return Err(format!("{path:?} has a control character"));
        }
    }
    if is_system(path) {
        return Err(format!("{path:?} is under {ZK_SYSTEM_PATH}, ZooKeeper's own subtree"));
    }
    Ok(())
}

/// Like [`validate_path`], and the path must not be `/` (nothing creates or deletes the root).
pub fn validate_target(path: &str) -> Result<(), String> {
    validate_path(path)?;
    if path == "/" {
        return Err("the root znode / cannot be created or deleted".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_paths() {
        for ok in ["/", "/a", "/a/b-c.d", "/myzoo/clusters/x/config", "/zookeeperish", "/a/..b", "/a/..."] {
            assert!(validate_path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "/a/", "//a", "/a//b", "/a/./b", "/a/..", "/zookeeper", "/zookeeper/quota", "/a\u{1}"] {
            assert!(validate_path(bad).is_err(), "{bad:?}");
        }
        assert!(validate_target("/").is_err());
        assert!(validate_target("/a").is_ok());
    }
}
