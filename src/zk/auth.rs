//! ZooKeeper digest authentication: the credential (`user:password`, from a file or
//! `$MYZOO_ZK_AUTH`, never from the command line), the digest id ZooKeeper's
//! `DigestAuthenticationProvider` derives from it, and what a NoAuth or an ACL says about it.
//!
//! ZooKeeper accepts any digest credential: a wrong password is not refused at connect time, it
//! only becomes an id no ACL names, so reads and writes answer NoAuth. [`judge`] tells that case
//! apart ("the ACL names digest user myzoo, but not with this password") from "this session has
//! no credentials" and "the ACL does not name this user at all", so operators get the reason
//! instead of a bare NoAuth.

use std::fmt;

use base64::Engine;
use sha1::{Digest, Sha1};

use super::AclEntry;

/// The authentication scheme of a credential (the only one myzoo sends).
pub const DIGEST_SCHEME: &str = "digest";
/// Environment variable holding `user:password` when no credential file is named.
pub const ZK_AUTH_ENV: &str = "MYZOO_ZK_AUTH";
/// What ZooKeeper shows instead of a digest hash to a session without ADMIN on the znode.
pub const REDACTED_HASH: &str = "x";

/// A digest credential. Its `Debug` never shows the password; nothing else prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct ZkCredential {
    user: String,
    password: String,
}

impl fmt::Debug for ZkCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZkCredential")
            .field("scheme", &DIGEST_SCHEME)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why a credential's text was refused (never quoting the password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("a ZooKeeper credential is `user:password`, and this one has no `:`")]
    NoColon,
    #[error("a ZooKeeper credential needs a user name before the `:`")]
    EmptyUser,
    #[error("a ZooKeeper credential needs a password after the `:`")]
    EmptyPassword,
    #[error("the user name of a ZooKeeper credential cannot hold spaces or control characters")]
    BadUser,
}

impl ZkCredential {
    /// A credential for `user`; the user may not contain `:` (ZooKeeper splits on the first one).
    pub fn new(user: &str, password: &str) -> Result<ZkCredential, CredentialError> {
        if user.is_empty() {
            return Err(CredentialError::EmptyUser);
        }
        if user.contains(':') {
            return Err(CredentialError::NoColon);
        }
        if user.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(CredentialError::BadUser);
        }
        if password.is_empty() {
            return Err(CredentialError::EmptyPassword);
        }
        Ok(ZkCredential { user: user.to_string(), password: password.to_string() })
    }

    /// `user:password` (the first line of a credential file, or `$MYZOO_ZK_AUTH`); the password
    /// may itself hold `:`. A trailing line break is ignored.
    pub fn parse(text: &str) -> Result<ZkCredential, CredentialError> {
        let text = text.trim_end_matches(['\n', '\r']);
        let (user, password) = text.split_once(':').ok_or(CredentialError::NoColon)?;
        ZkCredential::new(user, password)
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The id ZooKeeper gives a session authenticated with this credential, as ACLs name it.
    pub fn digest_id(&self) -> String {
        digest_id(&self.user, &self.password)
    }

    /// What may be shown: `digest myzoo`.
    pub fn label(&self) -> String {
        format!("{DIGEST_SCHEME} {}", self.user)
    }

    /// The bytes of the auth packet.
    pub(crate) fn auth_bytes(&self) -> Vec<u8> {
        format!("{}:{}", self.user, self.password).into_bytes()
    }
}

/// `user:base64(sha1(user:password))`: what ZooKeeper's `DigestAuthenticationProvider` computes
/// (`generateDigest`), and what an ACL entry `digest:ID:perms` names.
pub fn digest_id(user: &str, password: &str) -> String {
    let hash = Sha1::digest(format!("{user}:{password}").as_bytes());
    format!("{user}:{}", base64::engine::general_purpose::STANDARD.encode(hash))
}

/// What a session's credential has to do with an ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The ACL names this session's digest id (or grants the permission to anyone).
    Named,
    /// The ACL names the credential's user, but with another password: a wrong password.
    WrongPassword { user: String },
    /// The session sends no credential.
    NoCredential,
    /// The ACL does not name the credential's user.
    NotNamed { user: String },
}

/// How `acl` stands towards `credential` for the permission letter `perm` (`r`, `w`, `c`, `d`,
/// `a`). A digest hash ZooKeeper redacted (`user:x`, shown to sessions without ADMIN) still names
/// the user; it counts as a wrong password only when that entry grants ADMIN (had the password
/// been right, the hash would not have been redacted).
pub fn judge(acl: &[AclEntry], credential: Option<&ZkCredential>, perm: char) -> Standing {
    let grants = |e: &AclEntry| e.perms.contains(perm);
    if acl.iter().any(|e| e.scheme == "world" && e.id == "anyone" && grants(e)) {
        return Standing::Named;
    }
    let Some(cred) = credential else {
        return Standing::NoCredential;
    };
    let own = cred.digest_id();
    if acl.iter().any(|e| e.scheme == DIGEST_SCHEME && e.id == own && grants(e)) {
        return Standing::Named;
    }
    if names_user_with_other_password(acl, cred) {
        return Standing::WrongPassword { user: cred.user().to_string() };
    }
    Standing::NotNamed { user: cred.user().to_string() }
}

/// Whether `acl` names the credential's user with another password: a digest entry for the same
/// user whose hash differs from ours, or one ZooKeeper redacted (`user:x`: this session lacks
/// ADMIN) although it grants ADMIN (with the right password, the session would have it).
pub fn names_user_with_other_password(acl: &[AclEntry], credential: &ZkCredential) -> bool {
    matches!(judge_wrong(acl, credential), Some(true))
}

fn judge_wrong(acl: &[AclEntry], credential: &ZkCredential) -> Option<bool> {
    let own = credential.digest_id();
    let mut named = false;
    for e in acl.iter().filter(|e| e.scheme == DIGEST_SCHEME) {
        let Some((user, hash)) = e.id.split_once(':') else { continue };
        if user != credential.user() {
            continue;
        }
        if e.id == own {
            return Some(false);
        }
        named = true;
        if hash != REDACTED_HASH || e.perms.contains('a') {
            return Some(true);
        }
    }
    named.then_some(false)
}

/// Checks the session's credential against the ACL of `path` (or its nearest existing
/// ancestor): `Err` with the reason when that ACL names the credential's user with another
/// password. ZooKeeper itself never refuses a digest credential, so this is how a wrong password
/// is told at connect time rather than as NoAuth on the first write. Nothing to say (no
/// credential, ACL unreadable, user not named) is `Ok`.
pub async fn check(client: &super::Client, credential: Option<&ZkCredential>, path: &str) -> Result<(), String> {
    let Some(cred) = credential else { return Ok(()) };
    let mut at = path.to_string();
    let acl = loop {
        match client.get_acl(&at).await {
            Ok((acl, _)) => break acl,
            Err(zookeeper_client::Error::NoNode) if at != "/" => at = super::parent_path(&at).to_string(),
            Err(e) => {
                tracing::debug!(path = %at, error = %e, "credential not checked: the ACL could not be read");
                return Ok(());
            }
        }
    };
    let entries: Vec<AclEntry> = acl.iter().map(super::load::acl_entry).collect();
    if names_user_with_other_password(&entries, cred) {
        return Err(wrong_password_text(cred, &at));
    }
    Ok(())
}

/// What an operator reads when the credential's password is wrong.
pub fn wrong_password_text(credential: &ZkCredential, path: &str) -> String {
    format!(
        "the ZooKeeper credential of digest user {} does not match the ACL of {path}: wrong password \
         (check the credential file named by --zk-auth-file or the profile's zk_auth_file, or ${ZK_AUTH_ENV})",
        credential.user()
    )
}

/// The identities the server holds for this session (ZooKeeper 3.7's `whoami`), `ip` left out:
/// `["digest myzoo"]`, empty for an anonymous session; `None` when the server cannot say.
pub async fn session_identities(client: &super::Client) -> Option<Vec<String>> {
    let users = client.list_auth_users().await.ok()?;
    Some(users.iter().filter(|u| u.scheme() != "ip").map(|u| format!("{} {}", u.scheme(), u.user())).collect())
}

/// "this session authenticates as digest myzoo" / "… sends no credentials", as the server sees it.
pub async fn whoami_text(client: &super::Client) -> String {
    match session_identities(client).await {
        Some(ids) if ids.is_empty() => "this session sends no credentials".to_string(),
        Some(ids) => format!("this session authenticates as {}", ids.join(", ")),
        None => "the server could not say who this session is".to_string(),
    }
}

/// The session's identity as the console and the commands show it: `digest myzoo`, or that it
/// has none.
pub fn identity_text(credential: Option<&ZkCredential>) -> String {
    match credential {
        Some(c) => format!("this session authenticates as {}", c.label()),
        None => "this session sends no credentials".to_string(),
    }
}

/// Why a NoAuth happened, for an operator: the permission that was missing, and what this
/// session's credential has to do with it when the ACL could be read.
pub fn no_auth_reason(permission: &str, acl: Option<&[AclEntry]>, credential: Option<&ZkCredential>) -> String {
    let who = identity_text(credential);
    let letter = permission.chars().next().map(|c| c.to_ascii_lowercase()).unwrap_or('r');
    let standing = acl.map(|a| judge(a, credential, letter));
    match standing {
        Some(Standing::WrongPassword { user }) => format!(
            "locked: the ACL grants {permission} to digest user {user}, but not with this password \
             (wrong password in the credential file or $MYZOO_ZK_AUTH?)"
        ),
        Some(Standing::NotNamed { user }) => {
            format!("locked: the ACL does not grant {permission} to digest user {user}; {who}")
        }
        _ => format!("locked: the ACL does not grant {permission} to this session; {who}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(scheme: &str, id: &str, perms: &str) -> AclEntry {
        AclEntry { scheme: scheme.into(), id: id.into(), perms: perms.into() }
    }

    #[test]
    fn digest_matches_zookeeper() {
        // What ZooKeeper 3.8's own `DigestAuthenticationProvider` main() prints for these
        // (`java -cp zookeeper.jar org.apache.zookeeper.server.auth.DigestAuthenticationProvider
        // super:superpw myzoo:s3:cr:et`); tests/zk_auth.rs checks against a live server too.
        assert_eq!(digest_id("super", "superpw"), "super:g9oN2HttPfn8MMWJZ2r45Np/LIA=");
        let c = ZkCredential::parse("myzoo:s3:cr:et\n").unwrap();
        assert_eq!(c.user(), "myzoo");
        assert_eq!(c.digest_id(), "myzoo:Uvd2WgJF3nZ3WYJP8TzVk/hfQoE=");
        assert_eq!(c.auth_bytes(), b"myzoo:s3:cr:et".to_vec());
        assert_eq!(c.label(), "digest myzoo");
    }

    #[test]
    fn parsing_is_strict_and_never_quotes_the_password() {
        assert_eq!(ZkCredential::parse("nocolon"), Err(CredentialError::NoColon));
        assert_eq!(ZkCredential::parse(":pw"), Err(CredentialError::EmptyUser));
        assert_eq!(ZkCredential::parse("user:"), Err(CredentialError::EmptyPassword));
        assert_eq!(ZkCredential::parse("a user:pw"), Err(CredentialError::BadUser));
        assert_eq!(ZkCredential::new("a:b", "pw"), Err(CredentialError::NoColon));
        let err = ZkCredential::parse("hunter2hunter2").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        let shown = format!("{:?}", ZkCredential::parse("myzoo:hunter2").unwrap());
        assert!(shown.contains("myzoo") && shown.contains("<redacted>") && !shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn judging_an_acl() {
        let c = ZkCredential::parse("myzoo:right").unwrap();
        let own = c.digest_id();
        let other = digest_id("myzoo", "wrong");
        let acl = vec![entry("digest", &own, "cdrwa"), entry("world", "anyone", "r")];
        assert_eq!(judge(&acl, Some(&c), 'w'), Standing::Named);
        assert_eq!(judge(&acl, None, 'r'), Standing::Named, "anyone may read");
        assert_eq!(judge(&acl, None, 'w'), Standing::NoCredential);
        let theirs = vec![entry("digest", &other, "cdrwa")];
        assert_eq!(judge(&theirs, Some(&c), 'r'), Standing::WrongPassword { user: "myzoo".into() });
        // Redacted (`myzoo:x`): we lack ADMIN, which that entry grants: the password is wrong.
        let redacted = vec![entry("digest", "myzoo:x", "cdrwa")];
        assert_eq!(judge(&redacted, Some(&c), 'r'), Standing::WrongPassword { user: "myzoo".into() });
        // Redacted without ADMIN in the entry: nothing can be told about the password.
        let read_only = vec![entry("digest", "myzoo:x", "r")];
        assert_eq!(judge(&read_only, Some(&c), 'w'), Standing::NotNamed { user: "myzoo".into() });
        let alice = vec![entry("digest", &digest_id("alice", "pw"), "cdrwa")];
        assert_eq!(judge(&alice, Some(&c), 'r'), Standing::NotNamed { user: "myzoo".into() });
        let reason = no_auth_reason("READ", Some(&theirs), Some(&c));
        assert!(reason.contains("wrong password") && reason.contains("myzoo"), "{reason}");
        let reason = no_auth_reason("READ", None, None);
        assert!(reason.contains("READ") && reason.contains("no credentials"), "{reason}");
        assert!(names_user_with_other_password(&theirs, &c));
        assert!(names_user_with_other_password(&redacted, &c));
        assert!(!names_user_with_other_password(&acl, &c));
        assert!(!names_user_with_other_password(&read_only, &c), "redacted without ADMIN: cannot tell");
        assert!(!names_user_with_other_password(&alice, &c));
        let text = wrong_password_text(&c, "/myzoo");
        assert!(text.contains("myzoo") && text.contains("wrong password") && !text.contains("right"), "{text}");
        let reason = no_auth_reason("READ", None, Some(&c));
        assert!(reason.contains("digest myzoo") && !reason.contains("right"), "{reason}");
    }
}
