//! The create, delete, run-operation, restore and cancel-job dialogs as overlays: what a
//! finished dialog asks for. The forms themselves (fields, typed confirmation) live in
//! `console::dialogs`.

use super::Layer;
use crate::console::dialogs::DialogResult;
use crate::console::event::Effect;
use crate::console::screens::backups::BackupRequest;
use crate::console::screens::Nav;
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
        // The backups screen starts the job itself (it gives it an id and checks again).
        DialogResult::Restore { snapshot, confirm } => {
            Layer::Then(Nav::Backup(BackupRequest::Restore { snapshot, confirm }))
        }
        DialogResult::CancelJob { id } => Layer::Then(Nav::Backup(BackupRequest::Cancel { id })),
        DialogResult::SetAcl { path, acl, acl_version, confirm } => {
            cx.effect(Effect::SetAcl { path, acl, acl_version, confirm });
            Layer::Close
        }
    }
}
