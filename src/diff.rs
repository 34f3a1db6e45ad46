//! Line diffs of znode data for the editor's save and conflict views (and scripts): changed
//! lines with a little context, unchanged stretches folded.

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

/// Unchanged lines kept around each change.
pub const CONTEXT_LINES: usize = 3;
/// A diff of huge documents gives up refining after this long (it stays correct, only coarser).
const DIFF_DEADLINE_MS: u64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Same,
    Added,
    Removed,
    /// A folded run of unchanged lines.
    Fold,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub tag: Tag,
    pub text: String,
}

/// Summary counts, for the confirmation line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffStats {
    pub added: usize,
    pub removed: usize,
}

/// The diff of `old` → `new` with `CONTEXT_LINES` of context; empty when they are equal.
pub fn diff_lines(old: &str, new: &str) -> (Vec<DiffLine>, DiffStats) {
    let diff = TextDiff::configure()
        .deadline(std::time::Instant::now() + Duration::from_millis(DIFF_DEADLINE_MS))
        .diff_lines(old, new);
    let mut out = Vec::new();
    let mut stats = DiffStats::default();
    for (i, group) in diff.grouped_ops(CONTEXT_LINES).iter().enumerate() {
        if i > 0 || group.first().is_some_and(|op| op.old_range().start > 0) {
            out.push(DiffLine { tag: Tag::Fold, text: "…".into() });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let tag = match change.tag() {
                    ChangeTag::Equal => Tag::Same,
                    ChangeTag::Insert => {
                        stats.added += 1;
                        Tag::Added
                    }
                    ChangeTag::Delete => {
                        stats.removed += 1;
                        Tag::Removed
                    }
                };
                let text = change.value().trim_end_matches(['\n', '\r']).to_string();
                out.push(DiffLine { tag, text });
            }
        }
    }
    (out, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_with_context_and_folds() {
        let old: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 10\n", "line ten\n");
        let (lines, stats) = diff_lines(&old, &new);
        assert_eq!(stats, DiffStats { added: 1, removed: 1 });
        assert_eq!(lines[0].tag, Tag::Fold);
        assert!(lines.contains(&DiffLine { tag: Tag::Removed, text: "line 10".into() }));
        assert!(lines.contains(&DiffLine { tag: Tag::Added, text: "line ten".into() }));
        assert_eq!(lines.iter().filter(|l| l.tag == Tag::Same).count(), 2 * CONTEXT_LINES);
        assert!(diff_lines("same\n", "same\n").0.is_empty());
    }
}
