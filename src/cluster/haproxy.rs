//! HAProxy configurations for a cluster (`myzoo haproxy-config`): which servers the proxy
//! balances and where it checks them ([`backends`], from the cluster config joined with the
//! agents' published `agent.http`), and the pure renderer of a complete HAProxy 2.6 config
//! ([`render`]): a write frontend whose backend follows the agents' `/primary`, a read frontend
//! following `/replica`. No I/O here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::config::ClusterConfig;
use super::status::{parse_status, NodeStatus, ParsedStatus};

/// Default `--write-bind`: the port beside MySQL's 3306, on loopback, so a proxy on the
/// application's host is reachable only from it until an operator chooses otherwise.
pub const DEFAULT_WRITE_BIND: &str = "127.0.0.1:3307";
/// Default `--read-bind`.
pub const DEFAULT_READ_BIND: &str = "127.0.0.1:3308";
/// Default `--check-interval`: how often HAProxy asks each agent. A switchover is noticed
/// within one interval (one failed check marks a server down, one good one up), so it bounds
/// the write window a proxy adds; an agent answers from memory, so five checks a second per
/// proxy cost it nothing that shows.
pub const DEFAULT_CHECK_INTERVAL_MS: u64 = 200;
/// Shortest `--check-interval` accepted: below it the checks cost the agents more than they
/// gain.
pub const MIN_CHECK_INTERVAL_MS: u64 = 100;
/// Shortest `timeout check`: longer than the interval when the interval is short.
pub const CHECK_TIMEOUT_MIN_MS: u64 = 1_000;
/// How long HAProxy waits for a MySQL server to accept a connection before trying another.
pub const CONNECT_TIMEOUT_MS: u64 = 1_000;
/// Idle time after which HAProxy closes a client's or server's side. MySQL sessions sit idle in
/// connection pools for minutes; TCP keepalives (`option tcpka`) keep the path open meanwhile.
pub const SESSION_TIMEOUT_MIN: u64 = 30;

/// One MySQL server as HAProxy sees it: where clients' connections go, and where its agent
/// answers the health checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// The node's name in myzoo (sanitised when rendered, see [`identifier`]).
    pub name: String,
    pub host: String,
    pub port: u16,
    pub check_host: String,
    pub check_port: u16,
}

/// Everything [`render`] needs besides the servers; plain values, so the output is a pure
/// function of them (tests pin `generated_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// `ADDR:PORT` of the write frontend (`ADDR` may be empty or `*`: every address).
    pub write_bind: String,
    pub read_bind: String,
    pub check_interval_ms: u64,
    /// `ADDR:PORT` of an HTTP stats page (CSV at `/;csv`), if wanted.
    pub stats_bind: Option<String>,
    /// myzoo's version, for the header.
    pub version: String,
    /// When the config was generated, for the header.
    pub generated_at: String,
    /// The command line that generates this config again, for the header.
    pub command: String,
}

/// A node that is left out, or a detail an operator should know; printed on stderr.
pub type Warning = String;

/// The servers of `cluster`: every node of the config (in its order: `balance first` prefers
/// earlier servers), then nodes that publish a status but are missing from the config (by
/// name). Clients connect where the config places a node, else where its agent probes it. The
/// check goes to the agent's published `agent.http`; for an agent that publishes none (down at
/// generation time, or run without `--http`) to the node's host on `agent_port`. A node with
/// neither is an error naming it.
pub fn backends(
    config: Option<&ClusterConfig>,
    statuses: &BTreeMap<String, Vec<u8>>,
    agent_port: Option<u16>,
) -> Result<(Vec<Backend>, Vec<Warning>), String> {
    let mut warnings = Vec::new();
    let parsed: BTreeMap<&str, NodeStatus> = statuses
        .iter()
        .filter_map(|(name, data)| match parse_status(data) {
            ParsedStatus::Ok(s) => Some((name.as_str(), *s)),
            ParsedStatus::UnknownSchema(v) => {
                warnings.push(format!("node {name}: its status has schema {v}, unknown to this myzoo; ignored"));
                None
            }
            ParsedStatus::Malformed(e) => {
                warnings.push(format!("node {name}: its status cannot be read ({e}); ignored"));
                None
            }
        })
        .collect();
    let configured: Vec<&str> = config.map(|c| c.nodes.iter().map(|n| n.name.as_str()).collect()).unwrap_or_default();
    let mut out = Vec::new();
    let mut unplaced = Vec::new();
    let mut unchecked = Vec::new();
    for name in configured.iter().copied().chain(parsed.keys().copied().filter(|n| !configured.contains(n))) {
        let node = config.and_then(|c| c.nodes.iter().find(|n| n.name == name));
        let status = parsed.get(name);
        let (host, port) = match (node.filter(|n| !n.host.is_empty() && n.port != 0), status) {
            (Some(n), _) => (n.host.clone(), n.port),
            (None, Some(s)) => (s.server.host.clone(), s.server.port),
            (None, None) => {
                unplaced.push(name.to_string());
                continue;
            }
        };
        let published = status.and_then(|s| s.agent.http.as_deref());
        let check = match published.map(split_host_port) {
            // A wildcard or loopback address names no host others can check (loopback: the
            // proxy's own machine), unless the node itself is on loopback (a one-host setup).
            Some(Ok((h, p))) => {
                let elsewhere = is_unspecified(&h) || (is_loopback(&h) && !is_loopback(&host));
                Some((if elsewhere { host.clone() } else { h }, p))
            }
            Some(Err(e)) => {
                warnings.push(format!("node {name}: its agent publishes http {:?}: {e}", published.unwrap_or("")));
                None
            }
            None => None,
        };
        let (check_host, check_port) = match (check, agent_port) {
            (Some(c), _) => c,
            (None, Some(p)) => {
                warnings.push(format!("node {name}: its agent publishes no HTTP address; checking {host}:{p}"));
                (host.clone(), p)
            }
            (None, None) => {
                unchecked.push(name.to_string());
                continue;
            }
        };
        let (host, check_host) = (unbracket(&host), unbracket(&check_host));
        for h in [&host, &check_host] {
            if !is_plain_host(h) {
                return Err(format!("node {name}: host {h:?} cannot go into an HAProxy config"));
            }
        }
        out.push(Backend { name: name.to_string(), host, port, check_host, check_port });
    }
    if !unplaced.is_empty() {
        return Err(format!(
            "no address for {}: the cluster config gives no host and port, and no agent publishes a status",
            unplaced.join(", ")
        ));
    }
    if !unchecked.is_empty() {
        return Err(format!(
            "no health-check address for {}: no agent HTTP address published (agent down, or run without \
             --http); pass --agent-port PORT to check each such node's host on that port",
            unchecked.join(", ")
        ));
    }
    if out.is_empty() {
        return Err("the cluster has no nodes: none in its config, and no agent publishes a status".to_string());
    }
    Ok((out, warnings))
}

/// Splits `host:port` (`[v6]:port` for IPv6; an empty host means every address) and checks
/// the port.
pub fn split_host_port(text: &str) -> Result<(String, u16), String> {
    let (host, port) = text.rsplit_once(':').ok_or_else(|| format!("{text:?} is not HOST:PORT"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.contains(char::is_whitespace) || (host.contains(':') && !text.starts_with('[')) {
        return Err(format!("{text:?} is not HOST:PORT (write IPv6 addresses as [ADDR]:PORT)"));
    }
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok((host.to_string(), p)),
        _ => Err(format!("{text:?}: the port must be a number from 1 to 65535")),
    }
}

/// `[fd00::1]` → `fd00::1` (the renderer adds the brackets back).
fn unbracket(host: &str) -> String {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).to_string()
}

/// A host name or address: nothing that could end a line or a word of the config.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%'))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_unspecified(host: &str) -> bool {
    matches!(host, "" | "*" | "0.0.0.0" | "::")
}

/// A host as HAProxy reads it in an address: IPv6 literals in brackets.
fn address_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `host:port` for a `bind` or `server` line.
fn address(host: &str, port: u16) -> String {
    format!("{}:{port}", address_host(host))
}

/// An HAProxy identifier (proxy and server names take letters, digits, `-`, `_`, `.`, `:`):
/// anything else becomes `_`; an empty name becomes `_`.
pub fn identifier(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':') { c } else { '_' })
        .collect();
    if id.is_empty() {
        "_".to_string()
    } else {
        id
    }
}

/// Server identifiers for `backends`, unique within a backend even when two names sanitise to
/// the same one: a name that is already an identifier keeps it, others take the next free
/// suffix (`db 1` beside `db_1` becomes `db_1_2`).
fn server_ids(backends: &[Backend]) -> Vec<String> {
    let mut taken: BTreeSet<String> =
        backends.iter().filter(|b| identifier(&b.name) == b.name).map(|b| b.name.clone()).collect();
    backends
        .iter()
        .map(|b| {
            if identifier(&b.name) == b.name {
                return b.name.clone();
            }
            let base = identifier(&b.name);
            let mut id = base.clone();
            let mut n = 2;
            while !taken.insert(id.clone()) {
                id = format!("{base}_{n}");
                n += 1;
            }
            id
        })
        .collect()
}

/// Checks the options a renderer cannot turn into a valid config.
pub fn check_options(opts: &RenderOptions) -> Result<(), String> {
    let mut binds = vec![("--write-bind", &opts.write_bind), ("--read-bind", &opts.read_bind)];
    if let Some(s) = &opts.stats_bind {
        binds.push(("--stats", s));
    }
    let mut seen: Vec<(&str, (String, u16))> = Vec::new();
    for (flag, bind) in binds {
        let (host, port) = split_host_port(bind).map_err(|e| format!("{flag}: {e}"))?;
        if let Some((other, _)) =
            seen.iter().find(|(_, (h, p))| *p == port && (h == &host || is_unspecified(h) || is_unspecified(&host)))
        {
            return Err(format!("{flag} {bind} and {other} use the same port"));
        }
        seen.push((flag, (host, port)));
    }
    if opts.check_interval_ms < MIN_CHECK_INTERVAL_MS {
        return Err(format!("--check-interval must be at least {MIN_CHECK_INTERVAL_MS} ms"));
    }
    Ok(())
}

/// The names HAProxy knows the cluster's proxies by: `<cluster>_write`, `<cluster>_read`,
/// `<cluster>_stats` (sanitised); tests and operators read server states under them.
pub fn proxy_names(cluster: &str) -> (String, String, String) {
    let c = identifier(cluster);
    (format!("{c}_write"), format!("{c}_read"), format!("{c}_stats"))
}

/// A complete HAProxy 2.6 config for `cluster` (see the module doc). Call [`check_options`]
/// first: the binds are written as given.
pub fn render(cluster: &str, backends: &[Backend], opts: &RenderOptions) -> String {
    let (write, read, stats) = proxy_names(cluster);
    let ids = server_ids(backends);
    let inter = opts.check_interval_ms;
    let mut o = String::new();
    // Writing into a String cannot fail.
    let _ =
        writeln!(o, "# HAProxy configuration for the MySQL cluster {cluster:?}, generated by myzoo {}", opts.version);
    let _ = writeln!(o, "# at {}. Do not edit: regenerate with", opts.generated_at);
    let _ = writeln!(o, "#   {}", opts.command);
    let _ = writeln!(o, "# then check it with `haproxy -c -f FILE` and `systemctl reload haproxy`.");
    let _ = writeln!(o, "#");
    let _ = writeln!(o, "# {write}: writes go to the one server whose myzoo agent answers 200 on /primary");
    let _ = writeln!(o, "#   (recorded primary of the current epoch, writable, agent's ZooKeeper session healthy).");
    let _ = writeln!(o, "# {read}: reads go to the servers whose agent answers 200 on /replica (healthy,");
    let _ = writeln!(o, "#   replicating, under the cluster's failover.max_lag_s).");
    let _ = writeln!(o, "# One failed check marks a server down and cuts its sessions; one good check marks it up.");
    o.push('\n');
    o.push_str("global\n");
    // State changes of servers only (connections are logged at info): stdout reaches the journal
    // under systemd and the terminal under `haproxy -db`.
    o.push_str("    log stdout format raw local0 notice\n");
    o.push('\n');
    o.push_str("defaults\n");
    o.push_str("    mode tcp\n");
    o.push_str("    log global\n");
    o.push_str("    option dontlognull\n");
    // Keepalives on both sides keep idle pooled MySQL sessions from being dropped by firewalls.
    o.push_str("    option tcpka\n");
    // A refused connection (server just went down) is retried on another server.
    o.push_str("    option redispatch\n");
    o.push_str("    retries 2\n");
    let _ = writeln!(o, "    timeout connect {CONNECT_TIMEOUT_MS}ms");
    let _ = writeln!(o, "    timeout client {SESSION_TIMEOUT_MIN}m");
    let _ = writeln!(o, "    timeout server {SESSION_TIMEOUT_MIN}m");
    // A check that has not answered in time has failed. Not as short as the interval: an agent
    // that says no answers at once (503), so only a frozen agent or a slow path waits this long,
    // and one slow answer on a busy machine must not cut every write session.
    let _ = writeln!(o, "    timeout check {}ms", inter.max(CHECK_TIMEOUT_MIN_MS));
    // rise 1 fall 1: /primary and /replica are strict, so one answer is enough either way;
    // shutdown-sessions: clients still on a demoted primary are cut, so they reconnect to the
    // new one instead of writing into a read-only server. init-addr: a host name that does not
    // resolve yet leaves its server down instead of stopping HAProxy from starting.
    let _ = writeln!(
        o,
        "    default-server inter {inter}ms fastinter {inter}ms downinter {inter}ms rise 1 fall 1 \
         on-marked-down shutdown-sessions init-addr last,libc,none"
    );
    o.push('\n');
    section(&mut o, &write, &opts.write_bind, "first", "/primary", backends, &ids);
    o.push('\n');
    section(&mut o, &read, &opts.read_bind, "leastconn", "/replica", backends, &ids);
    if let Some(bind) = &opts.stats_bind {
        o.push('\n');
        let _ = writeln!(o, "# Server states: http://{bind}/ (CSV: /;csv).");
        let _ = writeln!(o, "listen {stats}");
        o.push_str("    mode http\n");
        let _ = writeln!(o, "    bind {bind}");
        o.push_str("    stats enable\n");
        o.push_str("    stats uri /\n");
        o.push_str("    stats refresh 5s\n");
    }
    o
}

/// A `frontend` and its `backend` of the same name.
fn section(o: &mut String, name: &str, bind: &str, balance: &str, check: &str, backends: &[Backend], ids: &[String]) {
    let _ = writeln!(o, "frontend {name}");
    let _ = writeln!(o, "    bind {bind}");
    let _ = writeln!(o, "    default_backend {name}");
    o.push('\n');
    let _ = writeln!(o, "backend {name}");
    let _ = writeln!(o, "    balance {balance}");
    let _ = writeln!(o, "    option httpchk GET {check}");
    o.push_str("    http-check expect status 200\n");
    for (b, id) in backends.iter().zip(ids) {
        // A sanitised name keeps the node's own name beside it.
        let node = if *id == b.name { String::new() } else { format!("  # node {:?}", b.name) };
        let _ = writeln!(
            o,
            "    server {id} {} check addr {} port {}{node}",
            address(&b.host, b.port),
            address_host(&b.check_host),
            b.check_port,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::status::tests::sample;
    use super::super::status::ServerRole;
    use super::*;

    fn opts() -> RenderOptions {
        RenderOptions {
            write_bind: DEFAULT_WRITE_BIND.into(),
            read_bind: DEFAULT_READ_BIND.into(),
            check_interval_ms: DEFAULT_CHECK_INTERVAL_MS,
            stats_bind: Some("127.0.0.1:8404".into()),
            version: "0.1.0".into(),
            generated_at: "2026-11-29 01:00:00 UTC".into(),
            command: "myzoo haproxy-config --cluster main".into(),
        }
    }

    fn backend(name: &str, host: &str, port: u16, check_port: u16) -> Backend {
        Backend { name: name.into(), host: host.into(), port, check_host: host.into(), check_port }
    }

    #[test]
    fn renders_a_write_and_a_read_frontend_following_the_agents() {
        let backends = [
            backend("db1", "10.0.0.1", 3306, 9104),
            backend("db2", "10.0.0.2", 3306, 9104),
            backend("db3", "fd00::3", 3306, 9104),
        ];
        insta::assert_snapshot!(render("main", &backends, &opts()));
    }

    #[test]
    fn odd_names_become_unique_haproxy_identifiers() {
        assert_eq!(identifier("db-1.dc:a_b"), "db-1.dc:a_b");
        assert_eq!(identifier("db 1/ä"), "db_1__");
        assert_eq!(identifier(""), "_");
        let backends = [backend("db 1", "h", 1, 2), backend("db_1", "h", 3, 4), backend("db#1", "h", 5, 6)];
        assert_eq!(server_ids(&backends), ["db_1_2", "db_1", "db_1_3"]);
        let text = render("my cluster#1", &backends, &opts());
        assert!(text.contains("frontend my_cluster_1_write\n"), "{text}");
        assert!(text.contains("backend my_cluster_1_read\n"), "{text}");
        assert!(text.contains("    server db_1_2 h:1 check addr h port 2  # node \"db 1\"\n"), "{text}");
        assert!(text.contains("    server db_1 h:3 check addr h port 4\n"), "{text}");
        assert!(text.contains("    server db_1_3 h:5 check addr h port 6  # node \"db#1\"\n"), "{text}");
    }

    #[test]
    fn host_ports_are_split_and_checked() {
        assert_eq!(split_host_port("10.0.0.1:9104"), Ok(("10.0.0.1".into(), 9104)));
        assert_eq!(split_host_port("[::1]:9104"), Ok(("::1".into(), 9104)));
        assert_eq!(split_host_port(":3307"), Ok(("".into(), 3307)));
        assert!(split_host_port("::1:9104").is_err());
        assert!(split_host_port("host").is_err());
        assert!(split_host_port("host:0").is_err());
        assert!(split_host_port("host:http").is_err());
    }

    #[test]
    fn options_need_distinct_ports_and_a_sane_interval() {
        assert_eq!(check_options(&opts()), Ok(()));
        let same = RenderOptions { read_bind: "127.0.0.1:3307".into(), ..opts() };
        assert_eq!(check_options(&same), Err("--read-bind 127.0.0.1:3307 and --write-bind use the same port".into()));
        let all = RenderOptions { stats_bind: Some("*:3308".into()), ..opts() };
        assert!(check_options(&all).unwrap_err().starts_with("--stats"));
        let fast = RenderOptions { check_interval_ms: 10, ..opts() };
        assert!(check_options(&fast).unwrap_err().contains("at least"));
        let bad = RenderOptions { write_bind: "localhost".into(), ..opts() };
        assert!(check_options(&bad).unwrap_err().starts_with("--write-bind"));
    }

    fn config(nodes: &[(&str, &str, u16)]) -> ClusterConfig {
        let nodes: Vec<serde_json::Value> =
            nodes.iter().map(|(n, h, p)| serde_json::json!({"name": n, "host": h, "port": p})).collect();
        super::super::config::parse_config(
            serde_json::json!({"schema": 1, "name": "main", "nodes": nodes}).to_string().as_bytes(),
        )
        .unwrap()
    }

    fn status(node: &str, server: (&str, u16), http: Option<&str>) -> Vec<u8> {
        let mut s = sample(node, ServerRole::Replica);
        s.server.host = server.0.into();
        s.server.port = server.1;
        s.agent.http = http.map(str::to_string);
        serde_json::to_vec(&s).unwrap()
    }

    #[test]
    fn a_host_that_would_break_the_config_is_refused() {
        let cfg = config(&[("db1", "db1 #evil\nlisten x", 3306)]);
        let statuses = BTreeMap::from([("db1".to_string(), status("db1", ("10.0.0.1", 3306), Some("10.0.0.1:9104")))]);
        let err = backends(Some(&cfg), &statuses, None).unwrap_err();
        assert!(err.contains("node db1: host") && err.contains("cannot go into an HAProxy config"), "{err}");
        let cfg = config(&[("db1", "[fd00::1]", 3306)]);
        let (b, _) = backends(Some(&cfg), &statuses, None).unwrap();
        assert_eq!(b[0].host, "fd00::1", "brackets are the renderer's to add");
    }

    #[test]
    fn a_loopback_check_address_means_the_nodes_own_host() {
        let cfg = config(&[("db1", "10.0.0.1", 3306), ("db2", "127.0.0.1", 3307)]);
        let statuses = BTreeMap::from([
            ("db1".to_string(), status("db1", ("127.0.0.1", 3306), Some("127.0.0.1:9104"))),
            ("db2".to_string(), status("db2", ("127.0.0.1", 3307), Some("127.0.0.1:9105"))),
        ]);
        let (b, _) = backends(Some(&cfg), &statuses, None).unwrap();
        assert_eq!((b[0].check_host.as_str(), b[0].check_port), ("10.0.0.1", 9104), "not the proxy's own loopback");
        assert_eq!((b[1].check_host.as_str(), b[1].check_port), ("127.0.0.1", 9105), "a node on loopback keeps it");
    }

    #[test]
    fn backends_join_the_config_with_the_agents_http_addresses() {
        let cfg = config(&[("db2", "db2.example", 3306), ("db1", "db1.example", 3306), ("db4", "", 0)]);
        let statuses = BTreeMap::from([
            ("db1".to_string(), status("db1", ("10.0.0.1", 3306), Some("10.0.0.1:9104"))),
            // The agent listens on every address: the check goes to the node's host.
            ("db2".to_string(), status("db2", ("10.0.0.2", 3306), Some("0.0.0.0:9105"))),
            // Not in the config: placed where its agent probes it.
            ("db0".to_string(), status("db0", ("10.0.0.9", 3310), Some("[fd00::9]:9104"))),
            ("db4".to_string(), status("db4", ("10.0.0.4", 3306), Some("10.0.0.4:9104"))),
        ]);
        let (got, warnings) = backends(Some(&cfg), &statuses, None).unwrap();
        let want = [
            Backend {
                name: "db2".into(),
                host: "db2.example".into(),
                port: 3306,
                check_host: "db2.example".into(),
                check_port: 9105,
            },
            Backend {
                name: "db1".into(),
                host: "db1.example".into(),
                port: 3306,
                check_host: "10.0.0.1".into(),
                check_port: 9104,
            },
            Backend {
                name: "db4".into(),
                host: "10.0.0.4".into(),
                port: 3306,
                check_host: "10.0.0.4".into(),
                check_port: 9104,
            },
            Backend {
                name: "db0".into(),
                host: "10.0.0.9".into(),
                port: 3310,
                check_host: "fd00::9".into(),
                check_port: 9104,
            },
        ];
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_node_without_a_check_address_is_an_error_unless_an_agent_port_is_given() {
        let cfg = config(&[("db1", "10.0.0.1", 3306), ("db2", "10.0.0.2", 3306), ("db3", "10.0.0.3", 3306)]);
        let statuses = BTreeMap::from([
            ("db1".to_string(), status("db1", ("10.0.0.1", 3306), Some("10.0.0.1:9104"))),
            ("db2".to_string(), status("db2", ("10.0.0.2", 3306), None)),
            ("db5".to_string(), b"not json".to_vec()),
        ]);
        let err = backends(Some(&cfg), &statuses, None).unwrap_err();
        assert!(err.starts_with("no health-check address for db2, db3:"), "{err}");
        assert!(err.contains("--agent-port"), "{err}");
        let (got, warnings) = backends(Some(&cfg), &statuses, Some(9200)).unwrap();
        let checks: Vec<(&str, &str, u16)> =
            got.iter().map(|b| (b.name.as_str(), b.check_host.as_str(), b.check_port)).collect();
        // A published address wins over --agent-port, which fills in for the others.
        assert_eq!(checks, [("db1", "10.0.0.1", 9104), ("db2", "10.0.0.2", 9200), ("db3", "10.0.0.3", 9200)]);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].starts_with("node db5: its status cannot be read"), "{warnings:?}");
    }

    #[test]
    fn nodes_nobody_places_are_errors() {
        let cfg = config(&[("db1", "", 0)]);
        let err = backends(Some(&cfg), &BTreeMap::new(), Some(9104)).unwrap_err();
        assert!(err.starts_with("no address for db1:"), "{err}");
        let err = backends(None, &BTreeMap::new(), Some(9104)).unwrap_err();
        assert!(err.contains("no nodes"), "{err}");
    }
}
