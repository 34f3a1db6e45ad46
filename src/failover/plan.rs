//! What an operation will do, shown before anything changes (console, `--dry-run`, the
//! journal): the candidates ranked with their reasons, the GTID positions, the steps, and the
//! expected write-block window. Built from observations by the operation's planner; pure data.

use serde::{Deserialize, Serialize};

/// Which operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Switchover,
    Failover,
    Rejoin,
}

impl OpKind {
    pub fn label(self) -> &'static str {
        match self {
            OpKind::Switchover => "switchover",
            OpKind::Failover => "failover",
            OpKind::Rejoin => "rejoin",
        }
    }
}

/// One candidate as the plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub node: String,
    pub eligible: bool,
    pub reasons: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behind: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errant: Vec<String>,
}

/// A node's position when the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePosition {
    pub node: String,
    /// `primary`, `replica`, `down`.
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

/// A step as planned: a stable name (`fence-old`) and what it does in operator words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub name: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub kind: OpKind,
    pub cluster: String,
    pub old_primary: String,
    pub epoch: u64,
    /// The chosen node; `None` when the plan refuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
    pub candidates: Vec<Candidate>,
    pub positions: Vec<NodePosition>,
    pub steps: Vec<PlannedStep>,
    /// How long writes are expected to be refused (fence to open), in milliseconds.
    pub expected_block_ms: u64,
    /// Why the operation cannot run; empty when it can.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn can_run(&self) -> bool {
        self.refusals.is_empty() && self.candidate.is_some()
    }

    /// The plan as an operator reads it (`--dry-run`, the journal's text view).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let target = self.candidate.as_deref().unwrap_or("(none)");
        out.push_str(&format!(
            "{} of cluster {}: {} → {} (epoch {} → {})\n",
            self.kind.label(),
            self.cluster,
            self.old_primary,
            target,
            self.epoch,
            self.epoch.saturating_add(1)
        ));
        out.push_str("\npositions:\n");
        for p in &self.positions {
            let ro = match p.read_only {
                Some(true) => " read-only",
                Some(false) => " writable",
                None => "",
            };
            out.push_str(&format!("  {:<10} {:<8} {}{ro}\n", p.node, p.role, p.position.as_deref().unwrap_or("-")));
        }
        out.push_str("\ncandidates (best first):\n");
        for (i, c) in self.candidates.iter().enumerate() {
            let mark = if c.eligible { format!("{}.", i + 1) } else { "--".to_string() };
            let behind = c.behind.map(|b| format!(" behind {b}")).unwrap_or_default();
            out.push_str(&format!(
                "  {mark:<3} {:<10} received {} applied {}{behind}\n",
                c.node,
                c.received.as_deref().unwrap_or("-"),
                c.applied.as_deref().unwrap_or("-")
            ));
            for r in &c.reasons {
                out.push_str(&format!("        {r}\n"));
            }
            for e in &c.errant {
                out.push_str(&format!("        errant: {e}\n"));
            }
        }
        out.push_str("\nsteps:\n");
        for (i, s) in self.steps.iter().enumerate() {
            out.push_str(&format!("  {:>2}. {:<14} {}\n", i + 1, s.name, s.title));
        }
        out.push_str(&format!("\nexpected write-block window: ~{} ms\n", self.expected_block_ms));
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        for r in &self.refusals {
            out.push_str(&format!("refused: {r}\n"));
        }
        out
    }
}
