//! Who the members are: the connect string's servers (scheme prefixes and chroot stripped) and
//! the `server.N` lines of `/zookeeper/config`, merged, each member marked with what named it.
//! Pure: the reads happen in `ensemble::read`.

use serde::Serialize;

/// ZooKeeper's client port when a connect string names none.
pub const DEFAULT_CLIENT_PORT: u16 = 2181;

/// What a `server.N` line says a member does in the quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigRole {
    /// Votes (the default when a line names no role).
    Participant,
    /// Follows the leader without voting.
    Observer,
}

/// One ensemble member as the ensemble screen and `myzoo zk ensemble` list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Host as written where it was named (the connect string's spelling wins).
    pub host: String,
    /// The client port, where the four-letter words go.
    pub port: u16,
    /// `N` of its `server.N` line, when `/zookeeper/config` lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<u32>,
    /// Its role from `/zookeeper/config`, when listed there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<ConfigRole>,
    /// Named by the connect string.
    pub in_connect_string: bool,
    /// Named by `/zookeeper/config`.
    pub in_dynamic_config: bool,
}

impl Member {
    /// `host:port`, with an IPv6 host in brackets.
    pub fn address(&self) -> String {
        address(&self.host, self.port)
    }

    /// What named it: `connect string`, `/zookeeper/config`, or both.
    pub fn sources(&self) -> &'static str {
        match (self.in_connect_string, self.in_dynamic_config) {
            (true, true) => "both",
            (true, false) => "connect string",
            (false, true) => "/zookeeper/config",
            (false, false) => "?",
        }
    }
}

/// `host:port`, with an IPv6 host in brackets.
pub fn address(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The servers of a connect string (`[tcp://|tcp+tls://]host[:port],…[/chroot]`), in order,
/// without duplicates.
pub fn parse_connect_string(connect: &str) -> Result<Vec<(String, u16)>, String> {
    let mut servers: Vec<(String, u16)> = Vec::new();
    for part in connect.split(',') {
        let part = part.trim();
        let part = part.strip_prefix("tcp+tls://").or_else(|| part.strip_prefix("tcp://")).unwrap_or(part);
        // The chroot follows the last server; a `/` ends a server's address.
        let part = part.split('/').next().unwrap_or_default();
        if part.is_empty() {
            return Err(format!("connect string {connect:?}: an empty server"));
        }
        let (host, port) =
            split_host_port(part).ok_or_else(|| format!("connect string {connect:?}: cannot read {part:?}"))?;
        let server = (host.to_string(), port.unwrap_or(DEFAULT_CLIENT_PORT));
        if !servers.contains(&server) {
            servers.push(server);
        }
    }
    Ok(servers)
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`; `None` when the port is not a number.
fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match text.rsplit_once(':') {
        // A bare IPv6 address without brackets has no port we could tell apart.
        Some((host, _)) if host.contains(':') => Some((text, None)),
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((text, None)),
    }
}

/// One `server.N=…` line of `/zookeeper/config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigServer {
    pub id: u32,
    /// The quorum address's host.
    pub host: String,
    pub role: ConfigRole,
    /// Where clients connect (`None`: the line has no `;client` part, as in a static
    /// configuration from before 3.5 or written without it).
    pub client: Option<(String, u16)>,
}

/// The `server.N` lines of `/zookeeper/config` (or of a `zoo.cfg`):
/// `server.N=host:quorumport:electionport[:role][;[clientaddr:]clientport]`. Other lines
/// (`version=`, `group.`, `weight.`) and lines that cannot be read are skipped.
pub fn parse_dynamic_config(text: &str) -> Vec<ConfigServer> {
    text.lines().filter_map(parse_server_line).collect()
}

fn parse_server_line(line: &str) -> Option<ConfigServer> {
    let (key, value) = line.trim().split_once('=')?;
    let id: u32 = key.trim().strip_prefix("server.")?.parse().ok()?;
    let (quorum, client) = match value.split_once(';') {
        Some((q, c)) => (q.trim(), Some(c.trim())),
        None => (value.trim(), None),
    };
    // host:quorumport:electionport[:role], the host possibly in brackets.
    let (host, rest) = match quorum.strip_prefix('[') {
        Some(r) => {
            let (h, after) = r.split_once(']')?;
            (h, after.strip_prefix(':')?)
        }
        None => quorum.split_once(':')?,
    };
    let role = match rest.split(':').nth(2).map(str::trim) {
        Some("observer") => ConfigRole::Observer,
        _ => ConfigRole::Participant,
    };
    let client = client.filter(|c| !c.is_empty()).and_then(|c| match split_host_port(c) {
        // A lone number is the port, on the quorum host.
        Some((only, None)) => only.parse().ok().map(|port| (host.to_string(), port)),
        // Listening on every interface: reach it where the quorum address is.
        Some(("0.0.0.0" | "::" | "0:0:0:0:0:0:0:0", Some(port))) => Some((host.to_string(), port)),
        Some((h, Some(port))) => Some((h.to_string(), port)),
        None => None,
    });
    Some(ConfigServer { id, host: host.to_string(), role, client })
}

/// The connect string's servers, in order, then the servers only `/zookeeper/config` names
/// (by id). A config line without a client address cannot be matched or asked, so it only
/// lends its id and role to a connect-string member with the same host when that host is
/// unique on both sides.
pub fn merge(connect: &[(String, u16)], config: &[ConfigServer]) -> Vec<Member> {
    let mut members: Vec<Member> = connect
        .iter()
        .map(|(host, port)| Member {
            host: host.clone(),
            port: *port,
            server_id: None,
            role: None,
            in_connect_string: true,
            in_dynamic_config: false,
        })
        .collect();
    let mut extra: Vec<Member> = Vec::new();
    for server in config {
        match &server.client {
            Some((host, port)) => {
                let found = members.iter_mut().find(|m| m.host == *host && m.port == *port);
                match found {
                    Some(m) => {
                        m.server_id = Some(server.id);
                        m.role = Some(server.role);
                        m.in_dynamic_config = true;
                    }
                    None => extra.push(Member {
                        host: host.clone(),
                        port: *port,
                        server_id: Some(server.id),
                        role: Some(server.role),
                        in_connect_string: false,
                        in_dynamic_config: true,
                    }),
                }
            }
            None => {
                let same_host_in_config = config.iter().filter(|s| s.host == server.host).count();
                let mut same_host = members.iter_mut().filter(|m| m.host == server.host);
                if let (Some(m), None, 1) = (same_host.next(), same_host.next(), same_host_in_config) {
                    m.server_id = Some(server.id);
                    m.role = Some(server.role);
                }
            }
        }
    }
    extra.sort_by_key(|m| m.server_id);
    members.extend(extra);
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(h: &str, p: u16) -> (String, u16) {
        (h.to_string(), p)
    }

    #[test]
    fn connect_strings_lose_schemes_chroot_and_duplicates() {
        assert_eq!(
            parse_connect_string("zk1:2181,tcp://zk2:2182,tcp+tls://zk3/myzoo/chroot").unwrap(),
            vec![hp("zk1", 2181), hp("zk2", 2182), hp("zk3", 2181)]
        );
        assert_eq!(parse_connect_string("127.0.0.1:1,127.0.0.1:1").unwrap(), vec![hp("127.0.0.1", 1)]);
        assert_eq!(
            parse_connect_string("[::1]:2181,[fe80::1],::1").unwrap(),
            vec![hp("::1", 2181), hp("fe80::1", 2181)],
            "a bare IPv6 address has the default port"
        );
        assert!(parse_connect_string("zk1:abc").is_err());
        assert!(parse_connect_string("zk1,,zk2").is_err());
        assert!(parse_connect_string("/chroot").is_err());
    }

    #[test]
    fn server_lines_parse_with_and_without_client_addresses() {
        let text = "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n\
                    server.2=10.0.0.2:2888:3888;2181\n\
                    server.3=[fe80::3]:2888:3888:observer;[fe80::3]:2182\n\
                    server.4=10.0.0.4:2888:3888:participant\n\
                    server.x=bad\n\
                    version=100000000\n";
        let servers = parse_dynamic_config(text);
        assert_eq!(
            servers,
            vec![
                ConfigServer {
                    id: 1,
                    host: "10.0.0.1".into(),
                    role: ConfigRole::Participant,
                    client: Some(hp("10.0.0.1", 2181))
                },
                ConfigServer {
                    id: 2,
                    host: "10.0.0.2".into(),
                    role: ConfigRole::Participant,
                    client: Some(hp("10.0.0.2", 2181))
                },
                ConfigServer {
                    id: 3,
                    host: "fe80::3".into(),
                    role: ConfigRole::Observer,
                    client: Some(hp("fe80::3", 2182))
                },
                ConfigServer { id: 4, host: "10.0.0.4".into(), role: ConfigRole::Participant, client: None },
            ]
        );
        assert!(parse_dynamic_config("").is_empty());
    }

    #[test]
    fn config_members_join_the_connect_string_ones() {
        let connect = vec![hp("10.0.0.1", 2181), hp("10.0.0.9", 2181)];
        let config = parse_dynamic_config(
            "server.2=10.0.0.2:2888:3888:observer;10.0.0.2:2181\nserver.1=10.0.0.1:2888:3888;10.0.0.1:2181\n",
        );
        let m = merge(&connect, &config);
        let rows: Vec<(String, Option<u32>, Option<ConfigRole>, &str)> =
            m.iter().map(|m| (m.address(), m.server_id, m.role, m.sources())).collect();
        assert_eq!(
            rows,
            vec![
                ("10.0.0.1:2181".to_string(), Some(1), Some(ConfigRole::Participant), "both"),
                ("10.0.0.9:2181".to_string(), None, None, "connect string"),
                ("10.0.0.2:2181".to_string(), Some(2), Some(ConfigRole::Observer), "/zookeeper/config"),
            ]
        );
    }

    #[test]
    fn lines_without_client_addresses_only_lend_ids_to_unique_hosts() {
        // The sandbox's hosts are all 127.0.0.1: nothing can be matched, nothing is added.
        let connect = vec![hp("127.0.0.1", 2181), hp("127.0.0.1", 2182)];
        let config = parse_dynamic_config("server.1=127.0.0.1:1:2:participant\nserver.2=127.0.0.1:3:4:participant\n");
        let m = merge(&connect, &config);
        assert_eq!(m.len(), 2);
        assert!(m.iter().all(|m| m.server_id.is_none() && !m.in_dynamic_config));
        // One host each: the ids and roles are lent.
        let connect = vec![hp("zk1", 2181), hp("zk2", 2181)];
        let config = parse_dynamic_config("server.7=zk1:1:2:participant\nserver.8=zk2:1:2:observer\n");
        let m = merge(&connect, &config);
        assert_eq!(m[0].server_id, Some(7));
        assert_eq!(m[1].role, Some(ConfigRole::Observer));
        assert!(!m[1].in_dynamic_config, "not named with a client address");
    }

    /// `/zookeeper/config` of the sandbox's three-member ensemble (ZooKeeper 3.8).
    #[test]
    fn the_sandboxs_config_names_every_client_port() {
        let servers = parse_dynamic_config(include_str!("fixtures/zookeeper-config.txt"));
        let clients: Vec<_> = servers.iter().map(|s| (s.id, s.role, s.client.clone())).collect();
        assert_eq!(
            clients,
            vec![
                (1, ConfigRole::Participant, Some(hp("127.0.0.1", 35955))),
                (2, ConfigRole::Participant, Some(hp("127.0.0.1", 41145))),
                (3, ConfigRole::Participant, Some(hp("127.0.0.1", 40043))),
            ]
        );
        // A connect string naming one member finds the other two.
        let m = merge(&[hp("127.0.0.1", 41145)], &servers);
        assert_eq!(
            m.iter().map(|m| (m.port, m.sources())).collect::<Vec<_>>(),
            vec![(41145, "both"), (35955, "/zookeeper/config"), (40043, "/zookeeper/config")]
        );
    }

    #[test]
    fn addresses_bracket_ipv6() {
        assert_eq!(address("::1", 2181), "[::1]:2181");
        assert_eq!(address("zk1", 2181), "zk1:2181");
    }
}
