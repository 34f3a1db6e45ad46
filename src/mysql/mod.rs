//! MySQL/MariaDB access: flavour detection and each flavour's statements, probing, heartbeat.
