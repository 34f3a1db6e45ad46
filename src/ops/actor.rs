//! Who is acting: the operating-system user, the host, and the SSH client address when the
//! session came in over SSH. Every audit record carries them.

use serde::{Deserialize, Serialize};

/// Size of the buffer for `getpwuid_r` (names and the passwd line's strings).
const PASSWD_BUF_BYTES: usize = 4096;
/// Longest host name read from `gethostname` (POSIX allows 255 plus the NUL).
const HOST_NAME_MAX_BYTES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub host: String,
    pub ssh_client: Option<String>,
}

impl Actor {
    /// The current process's identity. `$USER`/`$LOGNAME` come first because `sudo -E` and
    /// shared service accounts keep the operator's name there; the passwd entry of the real
    /// uid is the fallback.
    pub fn from_env() -> Actor {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let user = env("USER").or_else(|| env("LOGNAME")).or_else(passwd_user).unwrap_or_else(uid_text);
        let ssh_client = env("SSH_CLIENT")
            .or_else(|| env("SSH_CONNECTION"))
            .and_then(|v| v.split_whitespace().next().map(str::to_string));
        Actor { user, host: host_name().unwrap_or_else(|| "unknown".to_string()), ssh_client }
    }
}

fn uid_text() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    format!("uid {}", unsafe { libc::getuid() })
}

fn passwd_user() -> Option<String> {
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; PASSWD_BUF_BYTES];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and the buffer's length is passed with it;
    // `result` is either null or points at `pwd`, whose strings live in `buf`.
    let rc = unsafe { libc::getpwuid_r(libc::getuid(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name is a NUL-terminated string inside `buf`, which is still alive.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

fn host_name() -> Option<String> {
    let mut buf = vec![0u8; HOST_NAME_MAX_BYTES];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates when it fits.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_found() {
        let a = Actor::from_env();
        assert!(!a.user.is_empty());
        assert!(!a.host.is_empty());
        assert!(passwd_user().is_some_and(|u| !u.is_empty()));
    }
}
