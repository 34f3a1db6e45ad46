//! ACLs as operators write them, the way zkCli does: `scheme:id:perms`, perms from `cdrwa`
//! (`world:anyone:r`, `digest:myzoo:HASH=:cdrwa`, `ip:10.0.0.0/8:r`, `auth::cdrwa`), parsed
//! strictly with errors that say what is wrong; and the ACL myzoo gives the znodes it creates:
//! their parent's, so a protected tree stays protected.

use std::net::IpAddr;

use base64::Engine;
use sha2::{Digest, Sha256};
use zookeeper_client::{Acl, AuthId, Client, Error as ZkError, Permission};

use super::auth::REDACTED_HASH;
use super::{parent_path, AclEntry};

/// The permission letters, in zkCli's order.
pub const PERM_LETTERS: &str = "cdrwa";
/// The schemes ZooKeeper ships with.
pub const SCHEMES: [&str; 6] = ["world", "auth", "digest", "ip", "sasl", "x509"];
/// Bytes in a SHA-1 digest (what a digest id's hash encodes).
const SHA1_BYTES: usize = 20;
/// Hex characters of the fingerprint that stands for a digest hash in the audit log.
const FINGERPRINT_HEX_CHARS: usize = 8;

impl AclEntry {
    /// `scheme:id:perms`, as zkCli prints it and [`parse_entry`] reads it.
    pub fn text(&self) -> String {
        format!("{}:{}:{}", self.scheme, self.id, self.perms)
    }

    fn permission(&self) -> Permission {
        let mut p = Permission::NONE;
        for c in self.perms.chars() {
            p = p | match c {
                'c' => Permission::CREATE,
                'd' => Permission::DELETE,
                'r' => Permission::READ,
                'w' => Permission::WRITE,
                'a' => Permission::ADMIN,
                _ => Permission::NONE,
            };
        }
        p
    }

    /// The client library's form, for `set_acl` and creates.
    pub fn to_acl(&self) -> Acl {
        Acl::new(self.permission(), AuthId::new(&self.scheme, &self.id))
    }
}

/// A whole ACL on one line: `world:anyone:r,digest:myzoo:…:cdrwa`.
pub fn text(acl: &[AclEntry]) -> String {
    acl.iter().map(AclEntry::text).collect::<Vec<_>>().join(",")
}

/// Why an ACL's text was refused; each names the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    #[error("an ACL needs at least one entry (scheme:id:perms, e.g. world:anyone:r)")]
    Empty,
    #[error("`{0}` is not scheme:id:perms (e.g. world:anyone:cdrwa, digest:user:HASH:r, ip:10.0.0.0/8:r)")]
    Shape(String),
    #[error("`{entry}`: unknown scheme `{scheme}` (one of world, auth, digest, ip, sasl, x509)")]
    Scheme { entry: String, scheme: String },
    #[error("`{entry}`: permissions are letters from cdrwa (create, delete, read, write, admin), not `{perms}`")]
    Perms { entry: String, perms: String },
    #[error("`{entry}`: the world scheme's only id is `anyone`")]
    World { entry: String },
    #[error("`{entry}`: the auth scheme takes no id (auth::cdrwa means every id this session authenticated as)")]
    Auth { entry: String },
    #[error(
        "`{entry}`: a digest id is user:HASH, HASH being base64(sha1(user:password)); \
         `myzoo zk digest USER` computes it (a password itself is never an id)"
    )]
    Digest { entry: String },
    #[error("`{entry}`: an ip id is an address or a network (10.0.0.0/8)")]
    Ip { entry: String },
    #[error("`{entry}`: the {scheme} scheme needs an id")]
    NoId { entry: String, scheme: String },
    #[error("`{entry}` names {scheme}:{id} a second time")]
    Duplicate { entry: String, scheme: String, id: String },
}

/// One entry: `scheme:id:perms`. The id is everything between the first and the last `:`, so a
/// digest id's own `:` needs no quoting.
pub fn parse_entry(text: &str) -> Result<AclEntry, AclError> {
    let shape = || AclError::Shape(text.to_string());
    let (scheme, rest) = text.split_once(':').ok_or_else(shape)?;
    let (id, perms) = rest.rsplit_once(':').ok_or_else(shape)?;
    let entry = text.to_string();
    if !SCHEMES.contains(&scheme) {
        return Err(AclError::Scheme { entry, scheme: scheme.to_string() });
    }
    let mut seen = String::new();
    for c in perms.chars() {
        if !PERM_LETTERS.contains(c) || seen.contains(c) {
            return Err(AclError::Perms { entry, perms: perms.to_string() });
        }
        seen.push(c);
    }
    if perms.is_empty() {
        return Err(AclError::Perms { entry, perms: perms.to_string() });
    }
    match scheme {
        "world" if id != "anyone" => return Err(AclError::World { entry }),
        "auth" if !id.is_empty() => return Err(AclError::Auth { entry }),
        "digest" if !valid_digest_id(id) => return Err(AclError::Digest { entry }),
        "ip" if !valid_ip_id(id) => return Err(AclError::Ip { entry }),
        "sasl" | "x509" if id.is_empty() => return Err(AclError::NoId { entry, scheme: scheme.to_string() }),
        _ => {}
    }
    // Kept in zkCli's letter order, so the same permissions always read the same.
    let perms = PERM_LETTERS.chars().filter(|c| seen.contains(*c)).collect();
    Ok(AclEntry { scheme: scheme.to_string(), id: id.to_string(), perms })
}

/// A whole ACL from arguments, each holding one or more entries separated by commas (zkCli's
/// `setAcl` form) or spaces. Refuses an empty ACL and an id named twice.
pub fn parse(args: &[impl AsRef<str>]) -> Result<Vec<AclEntry>, AclError> {
    let mut out: Vec<AclEntry> = Vec::new();
    let pieces = args.iter().flat_map(|a| {
        a.as_ref().split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()).collect::<Vec<_>>()
    });
    for piece in pieces {
        let e = parse_entry(piece)?;
        if out.iter().any(|o| o.scheme == e.scheme && o.id == e.id) {
            return Err(AclError::Duplicate { entry: piece.to_string(), scheme: e.scheme, id: e.id });
        }
        out.push(e);
    }
    if out.is_empty() {
        return Err(AclError::Empty);
    }
    Ok(out)
}

fn valid_digest_id(id: &str) -> bool {
    let Some((user, hash)) = id.split_once(':') else { return false };
    let decoded = base64::engine::general_purpose::STANDARD.decode(hash);
    !user.is_empty() && decoded.is_ok_and(|d| d.len() == SHA1_BYTES)
}

fn valid_ip_id(id: &str) -> bool {
    let (addr, bits) = match id.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (id, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else { return false };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    bits.is_none_or(|b| b.parse::<u8>().is_ok_and(|n| n <= max))
}

/// The ACL for the audit log: digest hashes (password-equivalent to a brute force: unsalted
/// SHA-1) become a short fingerprint, so a change of password still shows as a change.
pub fn audit_text(acl: &[AclEntry]) -> String {
    acl.iter()
        .map(|e| match (e.scheme.as_str(), e.id.split_once(':')) {
            ("digest", Some((user, hash))) if hash != REDACTED_HASH => {
                let fp: String = Sha256::digest(hash.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .take(FINGERPRINT_HEX_CHARS / 2)
                    .collect();
                format!("digest:{user}:#{fp}:{}", e.perms)
            }
            _ => e.text(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The ACL a znode myzoo creates at `path` gets: that of its nearest existing ancestor, so a
/// tree an operator protected stays protected (ZooKeeper itself would make every new znode
/// whatever the client asks, usually open to anyone).
pub async fn inherited(client: &Client, path: &str) -> Result<Vec<Acl>, ZkError> {
    let mut at = parent_path(path).to_string();
    loop {
        match client.get_acl(&at).await {
            Ok((acl, _)) => return Ok(unredacted(client, acl).await),
            Err(ZkError::NoNode) if at != "/" => at = parent_path(&at).to_string(),
            Err(e) => return Err(e),
        }
    }
}

/// Makes sure the folder `dir` exists (created with its nearest ancestor's ACL when missing) and
/// returns the ACL its new children get: the folder's own.
pub async fn ensure_folder(client: &Client, dir: &str) -> Result<Vec<Acl>, ZkError> {
    match client.get_acl(dir).await {
        Ok((acl, _)) => Ok(unredacted(client, acl).await),
        Err(ZkError::NoNode) => {
            let acl = inherited(client, dir).await?;
            let options = zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::new(&acl));
            client.mkdir(dir, &options).await?;
            Ok(acl)
        }
        Err(e) => Err(e),
    }
}

/// ZooKeeper shows `digest:user:x` to a session without ADMIN on the znode; such an entry cannot
/// be copied. It becomes `auth::perms` (every id this session authenticated as): a session
/// creating there is, as a rule, the user the entry names. An anonymous session has no such id
/// (`auth` would be refused as an invalid ACL, hiding the real answer, NoAuth): the entry is
/// dropped, and what is left is kept, or anyone may read.
async fn unredacted(client: &Client, acl: Vec<Acl>) -> Vec<Acl> {
    if !acl.iter().any(redacted) {
        return acl;
    }
    let authenticated = super::auth::session_identities(client).await.is_none_or(|ids| !ids.is_empty());
    replace_redacted(acl, authenticated)
}

fn redacted(a: &Acl) -> bool {
    a.scheme() == "digest" && a.id().ends_with(&format!(":{REDACTED_HASH}"))
}

fn replace_redacted(acl: Vec<Acl>, authenticated: bool) -> Vec<Acl> {
    let perms = acl.iter().filter(|a| redacted(a)).fold(Permission::NONE, |p, a| p | a.permission());
    let mut out: Vec<Acl> = acl.into_iter().filter(|a| !redacted(a)).collect();
    if authenticated {
        out.push(Acl::new(perms, AuthId::authed()));
    }
    if out.is_empty() {
        out.push(Acl::new(Permission::READ, AuthId::anyone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(text: &str) -> Result<AclEntry, AclError> {
        parse_entry(text)
    }

    #[test]
    fn entries_parse_like_zkcli() {
        let hash = "Uvd2WgJF3nZ3WYJP8TzVk/hfQoE=";
        let d = e(&format!("digest:myzoo:{hash}:cdrwa")).unwrap();
        assert_eq!(
            (d.scheme.as_str(), d.id.as_str(), d.perms.as_str()),
            ("digest", &*format!("myzoo:{hash}"), "cdrwa")
        );
        assert_eq!(d.text(), format!("digest:myzoo:{hash}:cdrwa"));
        assert_eq!(e("world:anyone:ra").unwrap().perms, "ra");
        assert_eq!(e("world:anyone:ar").unwrap().perms, "ra", "letters kept in cdrwa order");
        assert_eq!(e("auth::cdrwa").unwrap().id, "");
        assert!(e("ip:10.0.0.0/8:r").is_ok() && e("ip:127.0.0.1:rw").is_ok() && e("ip:::1:r").is_ok());
        assert!(e("sasl:zk@EXAMPLE.COM:r").is_ok());
        let acl = parse(&["world:anyone:r,auth::cdrwa", " ip:10.1.2.3:r "]).unwrap();
        assert_eq!(text(&acl), "world:anyone:r,auth::cdrwa,ip:10.1.2.3:r");
        assert_eq!(d.to_acl().permission(), Permission::ALL);
        assert_eq!(e("world:anyone:rw").unwrap().to_acl().permission(), Permission::READ | Permission::WRITE);
    }

    #[test]
    fn mistakes_are_named() {
        assert!(matches!(e("world:anyone"), Err(AclError::Shape(_))), "no perms: {:?}", e("world:anyone"));
        assert!(matches!(e("world:anyone:"), Err(AclError::Perms { .. })));
        assert!(matches!(e("anyone"), Err(AclError::Shape(_))));
        assert!(matches!(e("wrld:anyone:r"), Err(AclError::Scheme { .. })));
        assert!(matches!(e("world:anyone:rx"), Err(AclError::Perms { .. })));
        assert!(matches!(e("world:anyone:rr"), Err(AclError::Perms { .. })));
        assert!(matches!(e("world:everyone:r"), Err(AclError::World { .. })));
        assert!(matches!(e("auth:me:r"), Err(AclError::Auth { .. })));
        // The classic mistake: a password where the hash belongs.
        let err = e("digest:myzoo:hunter2:cdrwa").unwrap_err();
        assert!(matches!(err, AclError::Digest { .. }) && err.to_string().contains("myzoo zk digest"), "{err}");
        assert!(matches!(e("ip:10.0.0.0/33:r"), Err(AclError::Ip { .. })));
        assert!(matches!(e("ip:db1:r"), Err(AclError::Ip { .. })));
        assert!(matches!(e("sasl::r"), Err(AclError::NoId { .. })));
        assert_eq!(parse(&[] as &[&str]), Err(AclError::Empty));
        assert_eq!(parse(&[" , "]), Err(AclError::Empty));
        assert!(matches!(parse(&["world:anyone:r", "world:anyone:cdrwa"]), Err(AclError::Duplicate { .. })));
    }

    #[test]
    fn audit_text_fingerprints_digest_hashes() {
        let acl = parse(&["digest:myzoo:Uvd2WgJF3nZ3WYJP8TzVk/hfQoE=:cdrwa,world:anyone:r"]).unwrap();
        let shown = audit_text(&acl);
        assert!(!shown.contains("Uvd2WgJF"), "{shown}");
        assert!(shown.starts_with("digest:myzoo:#") && shown.ends_with(":cdrwa,world:anyone:r"), "{shown}");
        let other = parse(&["digest:myzoo:g9oN2HttPfn8MMWJZ2r45Np/LIA=:cdrwa,world:anyone:r"]).unwrap();
        assert_ne!(audit_text(&other), shown, "another password shows as a change");
    }

    #[test]
    fn redacted_entries_become_auth() {
        let acl = vec![
            Acl::new(Permission::ALL, AuthId::new("digest", "myzoo:x")),
            Acl::new(Permission::READ, AuthId::anyone()),
        ];
        let out = replace_redacted(acl.clone(), true);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].scheme(), out[0].id()), ("world", "anyone"));
        assert_eq!((out[1].scheme(), out[1].id(), out[1].permission()), ("auth", "", Permission::ALL));
        let anonymous = replace_redacted(acl.clone(), false);
        assert_eq!(anonymous, vec![Acl::new(Permission::READ, AuthId::anyone())]);
        let only_redacted = replace_redacted(acl[..1].to_vec(), false);
        assert_eq!(only_redacted, vec![Acl::new(Permission::READ, AuthId::anyone())]);
    }
}
