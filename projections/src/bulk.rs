//! Set-based statements for projections: a batch's rows travel as one JSON array parameter
//! (`json_each` on SQLite, `json_array_elements` on PostgreSQL), so a batch of events costs a
//! few statements instead of one or two per event, with constant SQL text (prepared once).

use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::projection::ProjectionError;

/// Bytes of JSON per statement; like the event store's appends, small enough that a statement
/// goes out in one write (sqlx 0.9 does not set `TCP_NODELAY`).
const CHUNK_BYTES: usize = 12 * 1024;

/// The SQL type of a field of the JSON rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Text,
    Int,
}

pub fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// `SELECT <field 0> AS c0, <field 1> AS c1, … FROM <the rows of $1> WHERE true`.
pub fn rows_select(postgres: bool, cols: &[Col]) -> String {
    let fields: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, col)| match (postgres, col) {
            (false, _) => format!("json_extract(value, '$[{i}]') AS c{i}"),
            (true, Col::Text) => format!("r->>{i} AS c{i}"),
            (true, Col::Int) => format!("(r->>{i})::bigint AS c{i}"),
        })
        .collect();
    let from = if postgres {
        "json_array_elements($1::json) AS r"
    } else {
        "json_each($1)"
    };
    format!("SELECT {} FROM {from} WHERE true", fields.join(", "))
}

/// Serialises `items` (tuples → JSON arrays) into arrays of at most about [`CHUNK_BYTES`].
fn json_chunks<T: Serialize>(items: &[T]) -> Result<Vec<String>, ProjectionError> {
    let mut chunks = Vec::new();
    let mut current = String::from("[");
    for item in items {
        let json = serde_json::to_string(item)?;
        if current.len() > 1 && current.len() + json.len() + 2 > CHUNK_BYTES {
            current.push(']');
            chunks.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > 1 {
        current.push(']');
        chunks.push(current);
    }
    Ok(chunks)
}

/// Runs `sql` (rows bound as `$1`) once per chunk of `rows`, in order; returns what the
/// statements returned.
pub async fn run<T: Serialize>(
    conn: &mut AnyConnection,
    sql: &str,
    rows: &[T],
) -> Result<Vec<AnyRow>, ProjectionError> {
    let mut returned = Vec::new();
    for chunk in json_chunks(rows)? {
        let query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).bind(chunk);
        returned.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(returned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{Col, json_chunks, rows_select};

    #[test]
    fn rows_are_read_by_position_and_typed_on_postgres() {
        let sqlite = rows_select(false, &[Col::Text, Col::Int]);
        assert_eq!(
            sqlite,
            "SELECT json_extract(value, '$[0]') AS c0, json_extract(value, '$[1]') AS c1 FROM json_each($1) WHERE true"
        );
        let postgres = rows_select(true, &[Col::Text, Col::Int]);
        assert!(postgres.contains("(r->>1)::bigint AS c1"));
    }

    #[test]
    fn chunks_keep_order_and_split_large_batches() {
        let rows: Vec<(u32, String)> = (0..1000).map(|i| (i, "x".repeat(50))).collect();
        let chunks = json_chunks(&rows).unwrap();
        assert!(chunks.len() > 1);
        let back: Vec<(u32, String)> = chunks
            .iter()
            .flat_map(|c| serde_json::from_str::<Vec<(u32, String)>>(c).unwrap())
            .collect();
        assert_eq!(back, rows);
    }
}
