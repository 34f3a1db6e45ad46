//! Turning result rows into values: a replica status row (column → value) into [`Replication`],
//! and `SHOW VARIABLES`/`SHOW STATUS` rows into a name → value map. Pure, so each flavour's
//! column names are tested without a server.

use std::collections::HashMap;

use mysql_async::{from_value_opt, Row, Value};

use super::flavor::ReplicaColumns;
use crate::cluster::status::Replication;

/// A row as column name → text (`None` for NULL).
pub type RowMap = HashMap<String, Option<String>>;

/// Reads any row into a [`RowMap`]; values become their text form.
pub fn row_map(row: Row) -> RowMap {
    let names: Vec<String> = row.columns_ref().iter().map(|c| c.name_str().into_owned()).collect();
    names.into_iter().zip(row.unwrap()).map(|(name, value)| (name, value_text(value))).collect()
}

fn value_text(value: Value) -> Option<String> {
    match value {
        Value::NULL => None,
        other => from_value_opt::<String>(other.clone()).ok().or_else(|| Some(other.as_sql(true))),
    }
}

/// `SHOW GLOBAL VARIABLES`/`STATUS` rows (`Variable_name`, `Value`) into a map.
pub fn name_values(rows: Vec<(String, Option<String>)>) -> HashMap<String, String> {
    rows.into_iter().map(|(name, value)| (name.to_ascii_lowercase(), value.unwrap_or_default())).collect()
}

/// `ON`/`1`/`YES` (any case) are true.
pub fn truthy(value: &str) -> bool {
    matches!(value.trim().to_ascii_uppercase().as_str(), "ON" | "1" | "YES" | "TRUE")
}

/// The replication state in a replica status row; `None` when the row names no source (after
/// `RESET SLAVE ALL` the row may exist but be empty), i.e. the server is not a replica.
pub fn parse_replication(row: &RowMap, cols: &ReplicaColumns) -> Option<Replication> {
    let text = |name: &str| row.get(name).cloned().flatten().unwrap_or_default();
    let source_host = text(cols.source_host);
    if source_host.is_empty() {
        return None;
    }
    Some(Replication {
        source_host,
        source_port: text(cols.source_port).trim().parse().unwrap_or(0),
        io_running: text(cols.io_running),
        sql_running: text(cols.sql_running),
        seconds_behind: row.get(cols.seconds_behind).cloned().flatten().and_then(|s| s.trim().parse().ok()),
        last_io_error: text(cols.last_io_error),
        last_sql_error: text(cols.last_sql_error),
        using_gtid: text(cols.using_gtid),
        // MySQL prints long GTID sets over several lines.
        gtid_io_pos: text(cols.received_gtid).replace('\n', ""),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::flavor::{detect, Statements};

    fn row(pairs: &[(&str, Option<&str>)]) -> RowMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.map(str::to_string))).collect()
    }

    #[test]
    fn mariadb_row() {
        let cols = Statements::for_server(detect("10.11.19-MariaDB")).columns;
        let r = row(&[
            ("Master_Host", Some("127.0.0.1")),
            ("Master_Port", Some("3307")),
            ("Slave_IO_Running", Some("Yes")),
            ("Slave_SQL_Running", Some("No")),
            ("Seconds_Behind_Master", None),
            ("Last_IO_Error", Some("")),
            ("Last_SQL_Error", Some("Duplicate entry '1' for key 'PRIMARY'")),
            ("Using_Gtid", Some("Slave_Pos")),
            ("Gtid_IO_Pos", Some("0-1-42,1-2-7")),
        ]);
        let rep = parse_replication(&r, &cols).unwrap();
        assert_eq!(rep.source_host, "127.0.0.1");
        assert_eq!(rep.source_port, 3307);
        assert!(rep.io_ok() && !rep.sql_ok());
        assert_eq!(rep.seconds_behind, None);
        assert!(rep.last_sql_error.starts_with("Duplicate entry"));
        assert_eq!(rep.using_gtid, "Slave_Pos");
        assert_eq!(rep.gtid_io_pos, "0-1-42,1-2-7");
    }

    #[test]
    fn mysql_84_row() {
        let cols = Statements::for_server(detect("8.4.3")).columns;
        let r = row(&[
            ("Source_Host", Some("db1")),
            ("Source_Port", Some("3306")),
            ("Replica_IO_Running", Some("Connecting")),
            ("Replica_SQL_Running", Some("Yes")),
            ("Seconds_Behind_Source", Some("7")),
            ("Last_IO_Error", Some("error connecting to source")),
            ("Auto_Position", Some("1")),
            (
                "Retrieved_Gtid_Set",
                Some("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4f22ab58-82db-22f2-af44-d91bb0530673:1-3"),
            ),
        ]);
        let rep = parse_replication(&r, &cols).unwrap();
        assert_eq!((rep.source_host.as_str(), rep.source_port), ("db1", 3306));
        assert_eq!(rep.io_running, "Connecting");
        assert_eq!(rep.seconds_behind, Some(7));
        assert_eq!(rep.using_gtid, "1");
        assert_eq!(rep.last_sql_error, "");
        assert_eq!(
            rep.gtid_io_pos,
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4f22ab58-82db-22f2-af44-d91bb0530673:1-3"
        );
    }

    #[test]
    fn mysql_old_words_read_the_retrieved_set() {
        let cols = Statements::for_server(detect("8.0.21")).columns;
        let r = row(&[("Master_Host", Some("db1")), ("Retrieved_Gtid_Set", Some(""))]);
        assert_eq!(cols.received_gtid, "Retrieved_Gtid_Set");
        assert_eq!(parse_replication(&r, &cols).unwrap().gtid_io_pos, "");
    }

    #[test]
    fn a_row_without_a_source_is_not_a_replica() {
        let cols = Statements::for_server(detect("10.6.1-MariaDB")).columns;
        assert_eq!(parse_replication(&row(&[("Master_Host", Some(""))]), &cols), None);
        assert_eq!(parse_replication(&RowMap::new(), &cols), None);
    }

    #[test]
    fn variables_and_truthiness() {
        let m = name_values(vec![("READ_ONLY".into(), Some("ON".into())), ("x".into(), None)]);
        assert!(truthy(&m["read_only"]));
        assert_eq!(m["x"], "");
        assert!(truthy("1") && truthy("yes") && !truthy("OFF") && !truthy(""));
    }
}
