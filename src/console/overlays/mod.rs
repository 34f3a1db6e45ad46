//! What opens on top of a screen and takes the keys first: help, a node's full status, the
//! command line and filter, the create, delete, run-operation, restore and ACL dialogs, the editor. Each is
//! one file that owns its state, keys, hints and drawing and answers with a [`Layer`]; this
//! enum is the registration.

pub mod dialog;
pub mod editor;
pub mod help;
pub mod input;
pub mod node_detail;

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

pub use input::Input;
pub use node_detail::NodeDetail;

use super::app::App;
use super::dialogs::{AclForm, CancelJobConfirm, CreateForm, DeleteConfirm, RestoreConfirm, RunConfirm};
use super::editor::Editor;
use super::keymap::Scope;
use super::screens::Nav;
use super::shared::Cx;

pub enum Overlay {
    /// The help for this scope (the one under the popup).
    Help(Scope),
    NodeDetail(NodeDetail),
    Input(Input),
    Create(CreateForm),
    Delete(DeleteConfirm),
    /// The confirmation before a cluster operation (switchover …) runs.
    Run(Box<RunConfirm>),
    /// The confirmation before a snapshot is restored (its dry-run plan in short).
    Restore(Box<RestoreConfirm>),
    /// "Cancel the running …?" before a backup job's token is cancelled.
    CancelJob(CancelJobConfirm),
    /// Editing (or viewing read-only) a znode's data.
    Editor(Box<Editor>),
    /// Editing a znode's ACL.
    Acl(Box<AclForm>),
}

/// What an overlay wants after a key.
pub enum Layer {
    Stay,
    Close,
    /// Close, then navigate.
    Then(Nav),
    /// The live filter text changed (`None`: filter cleared).
    Filter(Option<String>),
    /// The same, and close.
    FilterClosed(Option<String>),
    /// Close, then run this `:` command line.
    Command(String),
}

impl Overlay {
    pub fn on_key(&mut self, key: KeyEvent, cx: &mut Cx<'_>) -> Layer {
        let keymap = &cx.shared.keymap;
        match self {
            Overlay::Help(_) => help::on_key(key, cx),
            Overlay::NodeDetail(d) => d.on_key(key, cx),
            Overlay::Input(i) => i.on_key(key, keymap),
            Overlay::Create(form) => {
                let result = form.on_key(key, keymap);
                dialog::finish(result, cx)
            }
            Overlay::Delete(confirm) => {
                let result = confirm.on_key(key, keymap);
                dialog::finish(result, cx)
            }
            Overlay::Run(confirm) => {
                let result = confirm.on_key(key, keymap);
                dialog::finish(result, cx)
            }
            Overlay::Restore(confirm) => {
                let result = confirm.on_key(key, keymap);
                dialog::finish(result, cx)
            }
            Overlay::CancelJob(confirm) => {
                let result = confirm.on_key(key, keymap);
                dialog::finish(result, cx)
            }
            Overlay::Editor(e) => editor::on_key(e, key, cx),
            Overlay::Acl(form) => {
                let result = form.on_key(key, keymap);
                dialog::finish(result, cx)
            }
        }
    }

    /// The keymap scope it reads its keys in: the hint bar and `?` follow it.
    pub fn scope(&self) -> Scope {
        match self {
            Overlay::Help(_) | Overlay::NodeDetail(_) => Scope::Popup,
            Overlay::Input(_) => Scope::Input,
            Overlay::Create(_) | Overlay::Acl(_) => Scope::Dialog,
            Overlay::Delete(confirm) => confirm.scope(),
            Overlay::Run(confirm) => confirm.scope(),
            Overlay::Restore(confirm) => confirm.scope(),
            Overlay::CancelJob(_) => Scope::Danger,
            Overlay::Editor(e) => e.scope(),
        }
    }

    /// Whether it replaces the screen's content (the editor) rather than floating over it.
    pub fn covers_screen(&self) -> bool {
        matches!(self, Overlay::Editor(_))
    }

    /// Draws over `area` (the whole terminal); `screen` is where the screens draw.
    pub fn draw(&self, frame: &mut Frame<'_>, app: &App, area: Rect, screen: Rect) {
        let sh = app.shared();
        match self {
            Overlay::Help(scope) => help::draw(frame, app, *scope, area),
            Overlay::NodeDetail(d) => d.draw(frame, sh, app.screens().cluster.store(), area),
            Overlay::Input(_) => {}
            Overlay::Create(form) => super::view::dialog_view::create(frame, &sh.theme, form, area),
            Overlay::Delete(confirm) => super::view::dialog_view::delete(frame, &sh.theme, confirm, area),
            Overlay::Run(confirm) => super::view::dialog_view::run(frame, &sh.theme, confirm, area),
            Overlay::Restore(confirm) => super::view::dialog_view::restore(frame, &sh.theme, confirm, area),
            Overlay::CancelJob(confirm) => super::view::dialog_view::cancel_job(frame, &sh.theme, confirm, area),
            Overlay::Editor(e) => super::view::editor_view::draw(frame, &sh.theme, e, screen),
            Overlay::Acl(form) => super::view::dialog_view::acl(frame, &sh.theme, form, area),
        }
    }

    /// Draws the status line instead of the notices when it owns it (the input line).
    pub fn status_line(&self, frame: &mut Frame<'_>, app: &App, area: Rect) -> bool {
        match self {
            Overlay::Input(i) => {
                i.draw(frame, &app.shared().theme, area);
                true
            }
            _ => false,
        }
    }
}
