//! Secret masking for znode data: which JSON keys hold secrets, the masked form shown in the
//! viewer and the editor, and putting the real values back before a masked edit is saved, so
//! that a mask is never written to ZooKeeper.
//!
//! A string is a secret when its nearest key looks like a password, secret, token, API key,
//! private key or credential (`"password": "x"`, or each string of `"tokens": ["a", "b"]`).
//! Keys that name *where* a secret is or *how* it is handled (`password_file`, `token_url`,
//! `password_policy`, `token_ttl_s` …) are not secrets themselves and stay visible.
//!
//! [`plain_text_secrets`] finds the keys whose values sit in a znode in plain text (JSON, or
//! `key=value` / `key: value` lines), for the console's marker and `myzoo zk secrets`: myzoo's own
//! znodes refer to credentials (files), never hold them.

use serde_json::Value;

/// What a masked value shows instead of the secret.
pub const MASK: &str = "••••••";

/// Words that make a key secret, compared after lower-casing and dropping `_`, `-`, `.`.
const SECRET_WORDS: &[&str] =
    &["password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "privatekey", "accesskey", "credential"];
/// Keys that are secret as a whole word only (`pass`, but not `passive`).
const SECRET_EXACT: &[&str] = &["pass", "pin"];
/// Endings that make a secret-looking key a reference to, or a setting about, the secret.
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "file",
    "path",
    "url",
    "uri",
    "policy",
    "hint",
    "length",
    "len",
    "ttl",
    "ttls",
    "ttlms",
    "expiry",
    "expires",
    "expiresat",
    "env",
    "name",
    "id",
    "type",
];

/// Whether a JSON key names a secret value (case-insensitive).
pub fn is_secret_key(key: &str) -> bool {
    let norm: String =
        key.chars().filter(|c| !matches!(c, '_' | '-' | '.' | ' ')).flat_map(char::to_lowercase).collect();
    if SECRET_EXACT.contains(&norm.as_str()) {
        return true;
    }
    let Some(word) = SECRET_WORDS.iter().find(|w| norm.contains(*w)) else {
        return false;
    };
    // `password_file` is secret-looking but its value is a path; `secret` itself stays secret.
    let after = norm.rsplit_once(word).map_or("", |(_, rest)| rest);
    !NOT_SECRET_SUFFIXES.iter().any(|s| !after.is_empty() && after.ends_with(s))
}

/// Data larger than this is not looked into on the console's event loop (the tree's marker);
/// `myzoo zk secrets` and `:secrets`, which run off the loop, look at everything.
pub const MARKER_SCAN_MAX_BYTES: usize = 64 * 1024;

/// The password-like keys whose values `data` holds in plain text: JSON pointers of non-empty
/// secret strings (`/db/password`), or the keys of `key=value` / `key: value` lines in other text
/// (properties, YAML, env files). Never the values. A value that refers to the secret elsewhere
/// (`${DB_PASSWORD}`, `$VAR`) or is already masked does not count.
pub fn plain_text_secrets(data: &[u8]) -> Vec<String> {
    if !mentions_a_secret_word(data) {
        return Vec::new();
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return Vec::new();
    };
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let mut keys = Vec::new();
        visit_secrets(&value, false, &mut |p, s| {
            if held(s) && !keys.iter().any(|k| k == p) {
                keys.push(p.to_string());
            }
        });
        return keys;
    }
    let mut keys: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some(at) = line.find(['=', ':']) else { continue };
        let key = line[..at].trim().trim_matches(['"', '\'']);
        let value = line[at + 1..].trim().trim_matches(['"', '\'']);
        let secret = !key.is_empty() && !key.contains(char::is_whitespace) && is_secret_key(key) && held(value);
        if secret && !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }
    keys
}

/// A value that is the secret itself, not a reference to it or a mask.
fn held(value: &str) -> bool {
    !value.is_empty() && value != MASK && !value.starts_with('$')
}

/// A cheap first look (no parsing): whether any secret word appears at all, in any case.
fn mentions_a_secret_word(data: &[u8]) -> bool {
    let lower = data.to_ascii_lowercase();
    SECRET_WORDS.iter().chain(SECRET_EXACT).any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
}

/// Whether any string in `value` sits under a secret key.
pub fn has_secrets(value: &Value) -> bool {
    let mut found = false;
    visit_secrets(value, false, &mut |_, _| found = true);
    found
}

/// Calls `f(pointer, string)` for every secret string, depth first, in document order.
fn visit_secrets(value: &Value, secret: bool, f: &mut dyn FnMut(&str, &str)) {
    fn walk(value: &Value, secret: bool, pointer: &mut String, f: &mut dyn FnMut(&str, &str)) {
        match value {
            Value::String(s) if secret => f(pointer, s),
            Value::Object(map) => {
                for (k, v) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&escape_pointer(k));
                    walk(v, is_secret_key(k), pointer, f);
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    // Array elements inherit the array's key: `"tokens": ["a", "b"]`.
                    walk(v, secret, pointer, f);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    walk(value, secret, &mut String::new(), f);
}

/// RFC 6901 escaping of one key for a JSON pointer.
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The pretty-printed JSON with every secret string replaced by [`MASK`]; `None` when the text
/// is not JSON or holds no secrets (then there is nothing to mask and the text shows as it is).
pub fn mask_json(text: &str) -> Option<String> {
    let mut value: Value = serde_json::from_str(text).ok()?;
    let mut pointers = Vec::new();
    visit_secrets(&value, false, &mut |p, _| pointers.push(p.to_string()));
    if pointers.is_empty() {
        return None;
    }
    for p in &pointers {
        if let Some(v) = value.pointer_mut(p) {
            *v = Value::String(MASK.to_string());
        }
    }
    serde_json::to_string_pretty(&value).ok()
}

/// Whether the data still holds a mask where a secret belongs: the last guard before a write.
pub fn contains_mask(data: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return false;
    };
    let mut found = false;
    visit_secrets(&value, false, &mut |_, s| found |= s == MASK);
    found
}

/// Puts the original secrets back into an edit of the masked text. Every mask left unchanged
/// must still sit where a secret string sat in `original` (same JSON pointer); otherwise the
/// edit moved or renamed a masked value and it cannot be restored: the error says where, and
/// the operator reveals the secrets before such an edit. An edit without masks is returned
/// byte for byte; one with masks is returned pretty-printed.
pub fn restore_masked(edited: &str, original: &str) -> Result<String, String> {
    let mut value: Value = serde_json::from_str(edited).map_err(|e| format!("the edited text is not JSON: {e}"))?;
    let mut masked = Vec::new();
    visit_masks(&value, &mut String::new(), &mut masked);
    if masked.is_empty() {
        return Ok(edited.to_string());
    }
    let original: Value =
        serde_json::from_str(original).map_err(|e| format!("the original data is not JSON any more: {e}"))?;
    let mut secrets = std::collections::HashMap::new();
    visit_secrets(&original, false, &mut |p, s| {
        secrets.insert(p.to_string(), s.to_string());
    });
    for p in &masked {
        let Some(secret) = secrets.get(p) else {
            return Err(format!(
                "the masked value at {} was renamed or moved, so its secret cannot be put back: \
                 reveal the secrets before renaming or moving them, or type the new value",
                display_pointer(p)
            ));
        };
        if let Some(v) = value.pointer_mut(p) {
            *v = Value::String(secret.clone());
        }
    }
    serde_json::to_string_pretty(&value).map_err(|e| format!("cannot write the restored JSON: {e}"))
}

/// Every string equal to [`MASK`], wherever it is (a mask under a non-secret key must be
/// restorable too, or refused, never saved).
fn visit_masks(value: &Value, pointer: &mut String, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s == MASK => out.push(pointer.clone()),
        Value::Object(map) => {
            for (k, v) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_pointer(k));
                visit_masks(v, pointer, out);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                visit_masks(v, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

fn display_pointer(p: &str) -> String {
    if p.is_empty() {
        "the top level".to_string()
    } else {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for k in [
            "password",
            "Password",
            "DB_PASSWORD",
            "passwd",
            "pwd",
            "secret",
            "client_secret",
            "token",
            "authToken",
            "api_key",
            "apiKey",
            "API-KEY",
            "private_key",
            "aws_access_key",
            "credentials",
            "credential",
            "pass",
            "tokens",
            "secret_key",
        ] {
            assert!(is_secret_key(k), "{k} should be secret");
        }
        for k in [
            "name",
            "user",
            "host",
            "password_file",
            "passwordFile",
            "token_url",
            "password_policy_url",
            "password_policy",
            "token_ttl_s",
            "secret_path",
            "passive",
            "key",
            "tier",
            "password_min_length",
            "credential_id",
        ] {
            assert!(!is_secret_key(k), "{k} should not be secret");
        }
    }

    #[test]
    fn plain_text_secrets_are_found_by_key_never_by_value() {
        let json = br#"{"user":"repl","password":"hunter2","db":{"api_key":"k"},"password_file":"/etc/p","token":""}"#;
        assert_eq!(plain_text_secrets(json), vec!["/password".to_string(), "/db/api_key".to_string()]);
        // References and masks are not secrets held in plain text.
        let refs = format!(r#"{{"password":"${{DB_PASSWORD}}","token":"{MASK}"}}"#);
        assert!(plain_text_secrets(refs.as_bytes()).is_empty());
        let props = b"# a comment with password=nothing\nuser=app\nDB_PASSWORD=s3cret\nexport API_TOKEN=\"abc\"\nsecret_file: /x\n";
        assert_eq!(plain_text_secrets(props), vec!["DB_PASSWORD".to_string(), "API_TOKEN".to_string()]);
        assert!(plain_text_secrets(b"Hello from the myzoo sandbox.\n").is_empty());
        assert!(plain_text_secrets(&[0xff, 0xfe, b'p', b'a', b's', b's']).is_empty(), "binary data");
        let config = br#"{"name":"sandbox","replication":{"user":"repl"},"nodes":[]}"#;
        assert!(plain_text_secrets(config).is_empty());
    }

    #[test]
    fn masks_keep_structure() {
        let text =
            r#"{"user":"repl","password":"hunter2","nested":{"token":"abc","port":1},"tokens":["a","b"],"pin":1234}"#;
        let masked = mask_json(text).unwrap();
        assert!(!masked.contains("hunter2") && !masked.contains("\"abc\""));
        let v: Value = serde_json::from_str(&masked).unwrap();
        assert_eq!(v["password"], MASK);
        assert_eq!(v["nested"]["token"], MASK);
        assert_eq!(v["nested"]["port"], 1);
        assert_eq!(v["tokens"][1], MASK);
        assert_eq!(v["user"], "repl");
        // Only strings are masked: a numeric value is shown.
        assert_eq!(v["pin"], 1234);
        assert!(has_secrets(&serde_json::from_str(text).unwrap()));
        assert!(contains_mask(masked.as_bytes()));
        assert!(!contains_mask(text.as_bytes()));
    }

    #[test]
    fn nothing_to_mask() {
        assert_eq!(mask_json(r#"{"user":"x","password_file":"/etc/p"}"#), None);
        assert_eq!(mask_json("not json"), None);
        assert!(!has_secrets(&serde_json::json!({"a": [1, 2]})));
    }

    #[test]
    fn restore_puts_secrets_back() {
        let original = r#"{"user":"repl","password":"hunter2","tokens":["a","b"]}"#;
        let masked = mask_json(original).unwrap();
        let edited = masked.replace("\"repl\"", "\"replica\"");
        let restored = restore_masked(&edited, original).unwrap();
        let v: Value = serde_json::from_str(&restored).unwrap();
        assert_eq!(v["user"], "replica");
        assert_eq!(v["password"], "hunter2");
        assert_eq!(v["tokens"], serde_json::json!(["a", "b"]));
        assert!(!restored.contains(MASK));
    }

    #[test]
    fn restore_keeps_a_retyped_secret() {
        let original = r#"{"password":"old"}"#;
        let edited = r#"{"password":"new"}"#;
        assert_eq!(restore_masked(edited, original).unwrap(), edited);
    }

    #[test]
    fn restore_refuses_a_moved_mask() {
        let original = r#"{"password":"hunter2"}"#;
        let masked = mask_json(original).unwrap();
        let renamed = masked.replace("\"password\"", "\"db_password\"");
        let err = restore_masked(&renamed, original).unwrap_err();
        assert!(err.contains("/db_password"), "{err}");
        let moved = format!(r#"{{"db":{{"password":"{MASK}"}}}}"#);
        assert!(restore_masked(&moved, original).is_err());
        assert!(restore_masked("{", original).unwrap_err().contains("not JSON"));
    }

    #[test]
    fn pointer_escaping() {
        let original = r#"{"a/b":{"token":"t"}}"#;
        let masked = mask_json(original).unwrap();
        let v: Value = serde_json::from_str(&restore_masked(&masked, original).unwrap()).unwrap();
        assert_eq!(v["a/b"]["token"], "t");
    }
}
