//! Build script: puts the commit the binary was built from into `MYZOO_COMMIT` for
//! `myzoo --version`: `git rev-parse --short=12 HEAD` (with `-dirty` when the work tree has
//! changes), else `$MYZOO_COMMIT` (a source tarball has no git), else `unknown`.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=MYZOO_COMMIT");
    // Rerun when HEAD moves (a checkout, a commit on the branch, a pack of the refs), not on
    // every source edit nor on the index (git status rewrites it): `-dirty` is as of the last
    // build that ran this script. A worktree's HEAD lives under its own git dir, its branches
    // under the common one: `--git-path` names each.
    // Only files that exist: cargo treats a missing one as changed, on every build. A branch
    // packed away removes its loose file (a change, so a rerun) and packed-refs then exists.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(p) = git(&["rev-parse", "--git-path", name.as_str()]) {
            let p = absolute(p);
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(hash) => {
            // `git diff --quiet HEAD` exits 1 when tracked files differ from HEAD; without
            // optional locks it does not rewrite the index.
            let dirty = Command::new("git")
                .args(["--no-optional-locks", "diff", "--quiet", "HEAD", "--"])
                .status()
                .map(|s| s.code() == Some(1))
                .unwrap_or(false);
            if dirty {
                format!("{hash}-dirty")
            } else {
                hash
            }
        }
        None => std::env::var("MYZOO_COMMIT").ok().filter(|c| !c.trim().is_empty()).unwrap_or_else(|| "unknown".into()),
    };
    println!("cargo:rustc-env=MYZOO_COMMIT={commit}");
}

/// `git rev-parse --git-path` answers relative to the current directory (the manifest's).
fn absolute(p: String) -> PathBuf {
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join(path)
    }
}
