//! The console without a terminal: the same `App`, session, effects and drawing, on ratatui's
//! `TestBackend`. Integration tests and benchmarks drive it and read the state and the screen.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::app::{App, AppOptions};
use super::event::Event;
use super::runtime::{Executor, TICK_INTERVAL_MS};
use super::view;
use crate::zk::session::{self, SessionConfig, ZkHandle};
use crate::zk::ZkEvent;

pub struct Headless {
    pub app: App,
    /// What the app was started with, for [`Headless::restart`].
    opts: AppOptions,
    /// What the header says of the session's credential (kept for a restarted app).
    auth_label: Option<String>,
    /// Resized since the last frame (see [`Headless::resize`]).
    resized: bool,
    pub terminal: Terminal<TestBackend>,
    rx: UnboundedReceiver<Event>,
    tx: UnboundedSender<Event>,
    executor: Executor,
    zk: ZkHandle,
    last_tick: SystemTime,
    cancel: CancellationToken,
    session_task: JoinHandle<()>,
}

impl Headless {
    /// Starts a real ZooKeeper session feeding a headless console. Call inside a tokio runtime.
    pub fn start(opts: AppOptions, session_cfg: SessionConfig) -> anyhow::Result<Headless> {
        let read_only = opts.read_only;
        Self::start_with(opts, session_cfg, read_only)
    }

    /// Like [`Headless::start`], but the executor refuses every write at the guards whatever
    /// the app shows: the screens act as in a writable console (dialogs, confirmations), and
    /// what they confirm ends as a read-only refusal. For soak tests that press every key.
    pub fn start_with_writes_refused(opts: AppOptions, session_cfg: SessionConfig) -> anyhow::Result<Headless> {
        Self::start_with(opts, session_cfg, true)
    }

    fn start_with(opts: AppOptions, session_cfg: SessionConfig, writes_refused: bool) -> anyhow::Result<Headless> {
        let (w, h) = opts.size;
        let terminal = Terminal::new(TestBackend::new(w, h))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let zk_tx = tx.clone();
        let sink: session::Sink = Arc::new(move |ev| {
            let _ = zk_tx.send(Event::Zk(ev));
        });
        let ensemble = session_cfg.connect.clone();
        let backups_zk = session_cfg.clone();
        let (auth, auth_label) = (session_cfg.auth.clone(), session_cfg.auth_label());
        let (zk, session_task) = session::spawn(session_cfg, sink, cancel.clone());
        let executor = Executor::new(zk.clone(), tx.clone(), &opts.root, writes_refused)
            .with_zk_auth(auth)
            .with_mysql(opts.mysql.clone())
            .with_backups(opts.backup_store.clone(), &backups_zk)
            .with_ensemble(&ensemble, opts.ensemble.clone());
        Ok(Headless {
            app: App::new(opts.clone()).with_zk_auth(auth_label.clone()),
            opts,
            auth_label,
            resized: false,
            terminal,
            rx,
            tx,
            executor,
            zk,
            last_tick: SystemTime::now(),
            cancel,
            session_task,
        })
    }

    /// The console's current ZooKeeper session id, while it has a session.
    pub fn session_id(&self) -> Option<i64> {
        self.zk.client().map(|c| c.session_id().0)
    }

    /// Sends an event as if it came from the terminal or the clock.
    pub fn send(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    /// Applies events (drawing after each batch, as the real loop does) until `done` holds
    /// after a frame, or the timeout passes. Returns whether `done` held.
    pub async fn pump_until(&mut self, timeout: Duration, mut done: impl FnMut(&App) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.app.dirty() {
                self.draw();
            }
            self.tick_if_due();
            if done(&self.app) {
                return true;
            }
            let ev = tokio::select! {
                ev = self.rx.recv() => ev,
                _ = tokio::time::sleep_until(deadline) => return false,
                // Nothing happening: still let the clock tick, as the real loop does.
                _ = tokio::time::sleep(Duration::from_millis(TICK_INTERVAL_MS)) => continue,
            };
            let Some(ev) = ev else { return false };
            self.apply(ev);
            while let Ok(ev) = self.rx.try_recv() {
                self.apply(ev);
            }
        }
    }

    fn apply(&mut self, ev: Event) {
        for effect in self.app.update(ev) {
            self.executor.run(effect);
        }
    }

    /// Applies one event now (its effects start at once), then every result already back,
    /// without waiting or drawing: for driving the app faster than a terminal would.
    pub fn feed(&mut self, ev: Event) {
        self.apply(ev);
        self.apply_pending();
    }

    /// Applies every event already waiting (results of earlier effects), without waiting.
    pub fn apply_pending(&mut self) {
        while let Ok(ev) = self.rx.try_recv() {
            self.apply(ev);
        }
    }

    /// The terminal resized: the backend takes the new size (blank, as a terminal may leave
    /// it) and the app hears of it; the next frame repaints everything, as the real loop's does.
    pub fn resize(&mut self, w: u16, h: u16) {
        self.terminal.backend_mut().resize(w, h);
        self.resized = true;
        self.apply(Event::Resize(w, h));
    }

    /// A fresh app on the same session, as if the console had been started again: it hears
    /// the session's state and reads everything it shows.
    pub fn restart(&mut self) {
        let (badge, generation) = (self.app.session(), self.app.generation());
        self.app = App::new(AppOptions { size: self.app.shared().size, now: SystemTime::now(), ..self.opts.clone() })
            .with_zk_auth(self.auth_label.clone());
        self.apply(Event::Zk(ZkEvent::Session { badge, at: SystemTime::now() }));
        if generation > 0 {
            self.apply(Event::Zk(ZkEvent::Ready { generation }));
        }
    }

    pub fn draw(&mut self) {
        if std::mem::take(&mut self.resized) {
            let _ = super::runtime::repaint_all(&mut self.terminal);
        }
        let app = &self.app;
        let _ = self.terminal.draw(|f| view::draw(f, app));
        self.app.frame_drawn();
    }

    /// Sends the clock tick the real loop sends every second, so ages and notices move.
    fn tick_if_due(&mut self) {
        let now = SystemTime::now();
        if now.duration_since(self.last_tick).is_ok_and(|d| d >= Duration::from_millis(TICK_INTERVAL_MS)) {
            self.last_tick = now;
            self.apply(Event::Tick(now));
        }
    }

    /// The last drawn screen as text, one line per row.
    pub fn screen(&self) -> String {
        let buf = self.terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    pub async fn shutdown(self) {
        self.executor.flush_drafts().await;
        self.cancel.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(2), self.session_task).await;
    }
}
