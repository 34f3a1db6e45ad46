//! The layering rules: only `src/console/` may use ratatui (or crossterm), and nothing outside
//! it may import the console, so the agent and the scriptable commands never pull in the UI; and
//! no service imports the command line (`cli`, `commands`), which sits on top of them all.

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

/// The first path segment after every `crate::` in `text`, comments skipped; a group
/// (`crate::{a::b, c}`) gives each of its members' first segment.
fn crate_modules(text: &str) -> Vec<String> {
    let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            found.push(ident(rest));
            continue;
        };
        // Members at the top level of the group: after `{` and after each `,` at depth 0.
        let mut depth = 0;
        let mut start = true;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => start = true,
                c if start && !c.is_whitespace() => {
                    found.push(ident(&group[i..]));
                    start = false;
                }
                _ => {}
            }
        }
    }
    found
}

#[test]
fn crate_modules_reads_paths_and_groups() {
    let text = "use crate::cli::Cli;\n// crate::commands\nuse crate::{config, commands::zk, zk::{a, b}};\n";
    assert_eq!(crate_modules(text), ["cli", "config", "commands", "zk"]);
}

/// No circles: the clap types (`cli`) are a leaf, the front ends (`commands`) sit on top of the
/// services, and no service reaches back up into either.
#[test]
fn services_never_import_the_command_line() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let cli = src.join("cli.rs");
    let front = [cli.clone(), src.join("main.rs"), src.join("lib.rs")];
    let commands = src.join("commands");
    let mut offenders = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let modules = crate_modules(&text);
        let bad: Vec<&String> = if *f == cli {
            // The clap definitions stand alone: plain types only, no services.
            modules.iter().collect()
        } else if front.contains(f) || f.starts_with(&commands) {
            continue;
        } else {
            let upward = text.contains("myzoo::cli") || text.contains("myzoo::commands");
            modules.iter().filter(|m| upward || *m == "cli" || *m == "commands").collect()
        };
        if !bad.is_empty() {
            offenders.push(format!("{}: crate::{bad:?}", f.strip_prefix(&src).unwrap().display()));
        }
    }
    assert!(offenders.is_empty(), "imports against the layering:\n{}", offenders.join("\n"));
    assert!(commands.join("mod.rs").is_file(), "src/commands/ holds the scriptable front ends");
}
