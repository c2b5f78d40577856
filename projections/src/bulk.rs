//! Set-based statements for projections: a batch's rows travel as one JSON array parameter on
//! PostgreSQL (`json_array_elements`, constant SQL text) and as bound multi-row `VALUES` on
//! SQLite (where parsing and unescaping a JSON array cost more than the writes), so a batch of
//! events costs a few statements instead of one or two per event.

use serde::Serialize;
use serde_json::Value;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

use crate::projection::ProjectionError;

/// Bound parameters per SQLite statement (rows × columns), well under SQLite's limit.
const MAX_PARAMS: usize = 900;

/// Bytes of JSON per PostgreSQL statement; like the event store's appends, small enough that a statement
/// goes out in one write (sqlx 0.9 does not set `TCP_NODELAY`).
const CHUNK_BYTES: usize = 12 * 1024;

/// The SQL type of a field of the JSON rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Text,
    Int,
    Float,
}

pub fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// PostgreSQL: `SELECT <field 0> AS c0, <field 1> AS c1, … FROM <the rows of $1> WHERE true`.
fn rows_select(cols: &[Col]) -> String {
    let fields: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, col)| match col {
            Col::Text => format!("r->>{i} AS c{i}"),
            Col::Int => format!("(r->>{i})::bigint AS c{i}"),
            Col::Float => format!("(r->>{i})::double precision AS c{i}"),
        })
        .collect();
    format!(
        "SELECT {} FROM json_array_elements($1::json) AS r WHERE true",
        fields.join(", ")
    )
}

/// SQLite: `SELECT column1 AS c0, … FROM (VALUES (?, …), …) WHERE true` for `rows` rows.
/// Anonymous `?` parameters, bound in order: sqlx looks each numbered `$n` up by name, a linear
/// scan per parameter in SQLite (quadratic in the row count).
fn values_select(columns: usize, rows: usize) -> String {
    let fields: Vec<String> = (0..columns)
        .map(|i| format!("column{} AS c{i}", i + 1))
        .collect();
    let row = format!("({})", vec!["?"; columns].join(", "));
    let values = vec![row; rows];
    format!(
        "SELECT {} FROM (VALUES {}) WHERE true",
        fields.join(", "),
        values.join(", ")
    )
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

/// Runs `statement(select)` over `rows` (tuples of `cols`), where `select` yields them as
/// columns `c0, c1, …`: chunked JSON on PostgreSQL, bound `VALUES` on SQLite. Returns what the
/// statements returned, in order.
pub async fn run<T: Serialize>(
    conn: &mut AnyConnection,
    cols: &[Col],
    rows: &[T],
    statement: impl Fn(&str) -> String,
) -> Result<Vec<AnyRow>, ProjectionError> {
    let mut returned = Vec::new();
    if is_postgres(conn) {
        let sql = statement(&rows_select(cols));
        for chunk in json_chunks(rows)? {
            let query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(chunk);
            returned.extend(query.fetch_all(&mut *conn).await?);
        }
        return Ok(returned);
    }
    for group in rows.chunks((MAX_PARAMS / cols.len().max(1)).max(1)) {
        let sql = statement(&values_select(cols.len(), group.len()));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in group {
            let Value::Array(fields) = serde_json::to_value(row)? else {
                let error = <serde_json::Error as serde::ser::Error>::custom("not a tuple");
                return Err(error.into());
            };
            for field in fields {
                query = bind(query, field);
            }
        }
        returned.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(returned)
}

/// Binds a JSON scalar as its SQL value (rows hold text, integers, floats, booleans and nulls).
fn bind(query: Query<'_, Any, AnyArguments>, field: Value) -> Query<'_, Any, AnyArguments> {
    match field {
        Value::String(text) => query.bind(text),
        Value::Number(n) if n.is_i64() || n.is_u64() => query.bind(n.as_i64()),
        Value::Number(n) => query.bind(n.as_f64()),
        Value::Bool(b) => query.bind(i64::from(b)),
        Value::Null | Value::Array(_) | Value::Object(_) => query.bind(None::<i64>),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{Col, json_chunks, rows_select, values_select};

    #[test]
    fn rows_are_columns_c0_c1_on_both_backends() {
        let sqlite = values_select(2, 2);
        assert_eq!(
            sqlite,
            "SELECT column1 AS c0, column2 AS c1 FROM (VALUES (?, ?), (?, ?)) WHERE true"
        );
        let postgres = rows_select(&[Col::Text, Col::Int]);
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
