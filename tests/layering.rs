//! The layering rule: only `src/console/` may use ratatui (or crossterm), and nothing outside
//! it may import the console, so the agent and the scriptable commands never pull in the UI.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_console_touches_the_terminal() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found the sources");
    let console = src.join("console");
    // The console's front end may start it; nothing else may reach into it.
    let allowed = [src.join("commands").join("console.rs"), src.join("lib.rs"), src.join("main.rs")];
    let mut offenders = Vec::new();
    for f in files.iter().filter(|f| !f.starts_with(&console)) {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let ui = code.contains("ratatui") || code.contains("crossterm");
            let console_use = code.contains("crate::console") && !allowed.contains(f);
            if ui || console_use {
                offenders.push(format!("{}:{}: {}", f.display(), i + 1, code));
            }
        }
    }
    assert!(offenders.is_empty(), "UI code outside src/console:\n{}", offenders.join("\n"));
}
