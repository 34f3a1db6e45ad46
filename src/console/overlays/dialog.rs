//! The create, delete and run-operation dialogs as overlays: what a finished dialog asks for. The forms
//! themselves (fields, typed confirmation) live in `console::dialogs`.

use super::Layer;
use crate::console::dialogs::DialogResult;
use crate::console::event::Effect;
use crate::console::shared::Cx;

/// Turns a dialog's answer into the confirmed effect (a separate step from the confirmation).
pub fn finish(result: DialogResult, cx: &mut Cx<'_>) -> Layer {
    match result {
        DialogResult::Stay => Layer::Stay,
        DialogResult::Cancel => Layer::Close,
        DialogResult::Create { path, data, mode } => {
            cx.effect(Effect::Create { path, data, mode });
            Layer::Close
        }
        DialogResult::Delete { path, version, recursive, confirm } => {
            cx.effect(Effect::Delete { path, version, recursive, confirm });
            Layer::Close
        }
        DialogResult::Run { id, kind, cluster, confirm } => {
            cx.effect(Effect::RunOperation { id, kind, cluster, confirm });
            Layer::Close
        }
    }
}
