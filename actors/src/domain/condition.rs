//! Conditions of `conditional` steps, parsed from upstream's string syntax and evaluated on the
//! last reply: `contains:x`, `equals:x`, `matches:re`, `length>N` (also <, >=, <=, ==) and
//! `jsonpath:<path> <op> <json value>` / `jsonpath:<path> exists`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A parsed condition. Stored and returned in its string form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Condition {
    Contains(String),
    Equals(String),
    Matches(String),
    Length(Compare, usize),
    JsonPath {
        path: String,
        test: Option<(Compare, Value)>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

impl Compare {
    const ALL: [(&'static str, Compare); 6] = [
        ("<=", Compare::Le),
        (">=", Compare::Ge),
        ("==", Compare::Eq),
        ("!=", Compare::Ne),
        ("<", Compare::Lt),
        (">", Compare::Gt),
    ];

    fn symbol(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("==", |(s, _)| s)
    }

    fn split(input: &str) -> Option<(&str, Compare, &str)> {
        Self::ALL
            .iter()
            .filter_map(|(sym, c)| input.find(sym).map(|i| (i, sym, *c)))
            .min_by_key(|(i, sym, _)| (*i, usize::MAX - sym.len()))
            .map(|(i, sym, c)| (input[..i].trim(), c, input[i + sym.len()..].trim()))
    }

    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Self::Lt => ord == Less,
            Self::Le => ord != Greater,
            Self::Eq => ord == Equal,
            Self::Ne => ord != Equal,
            Self::Ge => ord != Less,
            Self::Gt => ord == Greater,
        }
    }
}

/// Why a condition string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConditionError(String);

impl TryFrom<String> for Condition {
    type Error = ConditionError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Condition> for String {
    fn from(c: Condition) -> String {
        match c {
            Condition::Contains(x) => format!("contains:{x}"),
            Condition::Equals(x) => format!("equals:{x}"),
            Condition::Matches(x) => format!("matches:{x}"),
            Condition::Length(op, n) => format!("length{}{n}", op.symbol()),
            Condition::JsonPath { path, test: None } => format!("jsonpath:{path} exists"),
            Condition::JsonPath {
                path,
                test: Some((op, v)),
            } => format!("jsonpath:{path} {} {v}", op.symbol()),
        }
    }
}

impl Condition {
    /// Parses the string syntax; the error says what is expected.
    pub fn parse(raw: &str) -> Result<Self, ConditionError> {
        let s = raw.trim();
        if let Some(x) = s.strip_prefix("contains:") {
            return Ok(Self::Contains(x.to_string()));
        }
        if let Some(x) = s.strip_prefix("equals:") {
            return Ok(Self::Equals(x.to_string()));
        }
        if let Some(x) = s.strip_prefix("matches:") {
            regex::RegexBuilder::new(x)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| ConditionError(format!("invalid regex: {e}")))?;
            return Ok(Self::Matches(x.to_string()));
        }
        if let Some(rest) = s.strip_prefix("length") {
            let (_, op, n) = Compare::split(rest).ok_or_else(|| {
                ConditionError("length needs an operator such as length>100".into())
            })?;
            let n = n.parse().map_err(|_| {
                ConditionError(format!("length must compare to a whole number, got {n:?}"))
            })?;
            return Ok(Self::Length(op, n));
        }
        if let Some(rest) = s.strip_prefix("jsonpath:") {
            return parse_jsonpath(rest.trim());
        }
        Err(ConditionError(format!(
            "unsupported condition {s:?}: expected contains:, equals:, matches:, length<op>N or jsonpath:<path> <op> <value>"
        )))
    }

    /// Evaluates against the last reply text and its JSON (Null when not JSON).
    pub fn evaluate(
        &self,
        text: &str,
        json: &Value,
        read: impl Fn(&Value, &str) -> Option<Value>,
    ) -> bool {
        match self {
            Self::Contains(x) => text.to_lowercase().contains(&x.to_lowercase()),
            Self::Equals(x) => text.trim() == x.trim(),
            Self::Matches(re) => regex::RegexBuilder::new(re)
                .case_insensitive(true)
                .build()
                .is_ok_and(|r| r.is_match(text)),
            Self::Length(op, n) => op.holds(text.chars().count().cmp(n)),
            Self::JsonPath { path, test } => match (read(json, path), test) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(found), Some((op, expected))) => compare_json(&found, *op, expected),
            },
        }
    }
}

fn parse_jsonpath(rest: &str) -> Result<Condition, ConditionError> {
    if let Some(path) = rest.strip_suffix("exists") {
        return Ok(Condition::JsonPath {
            path: path.trim().to_string(),
            test: None,
        });
    }
    let (path, op, value) = Compare::split(rest).ok_or_else(|| {
        ConditionError("jsonpath needs `<path> <op> <value>` or `<path> exists`".into())
    })?;
    if path.is_empty() {
        return Err(ConditionError(
            "jsonpath needs a path before the operator".into(),
        ));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    Ok(Condition::JsonPath {
        path: path.to_string(),
        test: Some((op, value)),
    })
}

fn compare_json(found: &Value, op: Compare, expected: &Value) -> bool {
    match (found.as_f64(), expected.as_f64()) {
        (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| op.holds(o)),
        _ => {
            let a = found
                .as_str()
                .map_or_else(|| found.to_string(), str::to_string);
            let b = expected
                .as_str()
                .map_or_else(|| expected.to_string(), str::to_string);
            op.holds(a.cmp(&b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: &Value, p: &str) -> Option<Value> {
        v.pointer(&format!(
            "/{}",
            p.trim_start_matches("$.").replace('.', "/")
        ))
        .cloned()
    }

    #[test]
    fn parses_and_round_trips_every_form() {
        for s in [
            "contains:yes",
            "equals:OK",
            "matches:^h(i|ello)",
            "length>10",
            "length<=3",
            "jsonpath:$.a.b == 3",
            "jsonpath:$.x exists",
        ] {
            let c = Condition::parse(s).unwrap();
            assert_eq!(
                Condition::parse(&String::from(c.clone())).unwrap(),
                c,
                "{s}"
            );
        }
    }

    #[test]
    fn rejects_unknown_syntax_and_bad_regex() {
        assert!(Condition::parse("response.contains('yes')").is_err());
        assert!(Condition::parse("matches:(").is_err());
        assert!(Condition::parse("length>abc").is_err());
    }

    #[test]
    fn evaluates_against_reply() {
        let j = serde_json::json!({"a": {"b": 3}, "s": "ok"});
        assert!(
            Condition::parse("contains:YES")
                .unwrap()
                .evaluate("oh yes", &j, read)
        );
        assert!(
            !Condition::parse("equals:x")
                .unwrap()
                .evaluate("y", &j, read)
        );
        assert!(
            Condition::parse("matches:^HEL")
                .unwrap()
                .evaluate("hello", &j, read)
        );
        assert!(
            Condition::parse("length>=5")
                .unwrap()
                .evaluate("hello", &j, read)
        );
        assert!(
            Condition::parse("jsonpath:$.a.b > 2")
                .unwrap()
                .evaluate("", &j, read)
        );
        assert!(
            Condition::parse("jsonpath:$.s == \"ok\"")
                .unwrap()
                .evaluate("", &j, read)
        );
        assert!(
            !Condition::parse("jsonpath:$.zz exists")
                .unwrap()
                .evaluate("", &j, read)
        );
    }
}
