//! Template paths: reads with JSONPath (or upstream's dotted form), writes at simple paths.
//!
//! Users write either JSONPath (`$.choices[0].message.content`, `$['a b']`) or upstream's dotted
//! form (`choices.0.message.content`, `messages[0].content`). Simple paths (names and indices
//! only) are normalised to canonical JSONPath; anything else (filters, wildcards, slices) is
//! handed to `serde_json_path` as written. Writes accept simple paths only.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use super::path_syntax::{Segment, canonical, parse_simple};

/// Largest array index a write may create; guards against `a[999999999]` allocating gigabytes.
pub const MAX_WRITE_INDEX: usize = 4096;

/// Why a template path could not be parsed, read or written. Messages name the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path is empty")]
    Empty,
    #[error("path `{path}` is not valid: {reason}")]
    Syntax { path: String, reason: String },
    #[error("path `{path}` uses {what}, which is not allowed where a value is written")]
    Unsupported { path: String, what: &'static str },
    #[error("path `{path}`: index {index} is larger than the maximum of {MAX_WRITE_INDEX}")]
    IndexTooLarge { path: String, index: usize },
    #[error("path `{path}`: cannot write through {found} at `{at}`")]
    Conflict {
        path: String,
        at: String,
        found: &'static str,
    },
}

/// Reads the first value matched by `path` (JSONPath or dotted form); `None` when nothing matches.
pub fn read_path(value: &Value, path: &str) -> Result<Option<Value>, PathError> {
    let compiled = compile_read(path)?;
    Ok(compiled.query(value).first().cloned())
}

/// Writes `new` at a simple path, creating missing objects and arrays (numeric segment → array,
/// padded with `null`). The root path `$` replaces the whole value.
pub fn write_path(target: &mut Value, path: &str, new: Value) -> Result<(), PathError> {
    let segments = parse_write(path)?;
    let mut current = target;
    for (depth, segment) in segments.iter().enumerate() {
        if current.is_null() {
            *current = match segment {
                Segment::Key(_) => Value::Object(Map::new()),
                Segment::Index(_) => Value::Array(Vec::new()),
            };
        }
        let conflict = |found| PathError::Conflict {
            path: path.to_string(),
            at: canonical(&segments[..depth]),
            found,
        };
        current = match (current, segment) {
            (Value::Object(map), Segment::Key(key)) => {
                map.entry(key.clone()).or_insert(Value::Null)
            }
            (Value::Object(map), Segment::Index(i)) => {
                map.entry(i.to_string()).or_insert(Value::Null)
            }
            (Value::Array(items), Segment::Index(i)) => {
                if items.len() <= *i {
                    items.resize(i + 1, Value::Null);
                }
                items.get_mut(*i).ok_or_else(|| conflict("an array"))?
            }
            (other, _) => return Err(conflict(kind_name(other))),
        };
    }
    *current = new;
    Ok(())
}

/// Checks that `path` can be used for reading (JSONPath or dotted form).
pub fn validate_read_path(path: &str) -> Result<(), PathError> {
    compile_read(path).map(drop)
}

/// Checks that `path` can be used for writing (a simple path without filters or wildcards).
pub fn validate_write_path(path: &str) -> Result<(), PathError> {
    parse_write(path).map(drop)
}

/// Compiled read paths kept per thread (a scenario reads the same few paths on every reply).
const PATH_CACHE_SIZE: usize = 256;

thread_local! {
    static COMPILED: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<JsonPath>>> =
        std::cell::RefCell::default();
}

/// [`parse_read`] through the per-thread cache.
fn compile_read(path: &str) -> Result<std::rc::Rc<JsonPath>, PathError> {
    if let Some(hit) = COMPILED.with(|c| c.borrow().get(path).cloned()) {
        return Ok(hit);
    }
    let compiled = std::rc::Rc::new(parse_read(path)?);
    COMPILED.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= PATH_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(path.to_owned(), compiled.clone());
    });
    Ok(compiled)
}

fn parse_read(path: &str) -> Result<JsonPath, PathError> {
    let path = path.trim();
    let text = match parse_simple(path) {
        Ok(segments) => canonical(&segments),
        Err(PathError::Empty) => return Err(PathError::Empty),
        Err(_) if path.starts_with('$') => path.to_string(),
        Err(_) if path.starts_with('[') => format!("${path}"),
        Err(_) => format!("$.{path}"),
    };
    JsonPath::parse(&text).map_err(|e| PathError::Syntax {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

fn parse_write(path: &str) -> Result<Vec<Segment>, PathError> {
    let segments = parse_simple(path.trim())?;
    for segment in &segments {
        if let Segment::Index(index) = segment
            && *index > MAX_WRITE_INDEX
        {
            return Err(PathError::IndexTooLarge {
                path: path.to_string(),
                index: *index,
            });
        }
    }
    Ok(segments)
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply() -> Value {
        json!({
            "choices": [{"message": {"content": "hi"}}],
            "a b": {"c": 1},
            "usage": {"prompt_tokens": 3},
            "items": [{"id": 1, "ok": false}, {"id": 2, "ok": true}]
        })
    }

    #[test]
    fn reads_jsonpath_and_dotted_forms() {
        let v = reply();
        for path in [
            "$.choices[0].message.content",
            "choices.0.message.content",
            "choices[0].message.content",
            "$.choices.0.message.content",
            "$['choices'][0]['message'][\"content\"]",
        ] {
            assert_eq!(read_path(&v, path).unwrap(), Some(json!("hi")), "{path}");
        }
        assert_eq!(read_path(&v, "$['a b'].c").unwrap(), Some(json!(1)));
        assert_eq!(
            read_path(&v, "usage").unwrap(),
            Some(json!({"prompt_tokens": 3}))
        );
        assert_eq!(read_path(&v, "$").unwrap(), Some(v.clone()));
    }

    #[test]
    fn reads_full_jsonpath_first_match() {
        let v = reply();
        assert_eq!(
            read_path(&v, "$.items[?@.ok == true].id").unwrap(),
            Some(json!(2))
        );
        assert_eq!(read_path(&v, "$.items[*].id").unwrap(), Some(json!(1)));
        assert_eq!(read_path(&v, "items[*].id").unwrap(), Some(json!(1)));
    }

    #[test]
    fn missing_paths_read_as_none() {
        let v = reply();
        assert_eq!(read_path(&v, "choices.3.message").unwrap(), None);
        assert_eq!(read_path(&v, "nope.deeper").unwrap(), None);
    }

    #[test]
    fn invalid_read_paths_are_errors() {
        assert_eq!(validate_read_path(""), Err(PathError::Empty));
        assert!(matches!(
            validate_read_path("$.a[?"),
            Err(PathError::Syntax { .. })
        ));
        assert!(validate_read_path("$.a[?@.b == 1]").is_ok());
        assert!(validate_read_path("a.b.0").is_ok());
    }

    #[test]
    fn writes_create_objects_and_arrays() {
        let mut v = Value::Null;
        write_path(&mut v, "messages.1.content", json!("x")).unwrap();
        assert_eq!(v, json!({"messages": [null, {"content": "x"}]}));
        let mut v = json!({"model": "m"});
        write_path(&mut v, "$.contents[0].parts[0].text", json!("y")).unwrap();
        assert_eq!(
            v,
            json!({"model": "m", "contents": [{"parts": [{"text": "y"}]}]})
        );
        let mut v = json!({});
        write_path(&mut v, "$['a b']['c']", json!(1)).unwrap();
        assert_eq!(v, json!({"a b": {"c": 1}}));
    }

    #[test]
    fn writes_overwrite_existing_slots() {
        let mut v = json!({"messages": [{"role": "user", "content": "{{message}}"}]});
        write_path(&mut v, "messages[0].content", json!("hello")).unwrap();
        assert_eq!(
            v,
            json!({"messages": [{"role": "user", "content": "hello"}]})
        );
        let mut v = json!({"a": 1});
        write_path(&mut v, "$", json!("root")).unwrap();
        assert_eq!(v, json!("root"));
    }

    #[test]
    fn writes_reject_filters_and_wildcards() {
        let cases = [
            ("$.a[*]", "a wildcard"),
            ("a.*", "a wildcard"),
            ("$..a", "recursive descent `..`"),
            ("$.a[?@.b]", "a filter expression"),
            ("$.a[1:2]", "a slice"),
            ("$.a[0,1]", "a union"),
            ("$.a[-1]", "a negative index"),
        ];
        for (path, what) in cases {
            let err = validate_write_path(path).unwrap_err();
            assert_eq!(
                err,
                PathError::Unsupported {
                    path: path.into(),
                    what
                },
                "{path}"
            );
            assert!(err.to_string().contains("not allowed"));
        }
        assert!(matches!(
            validate_write_path("a..b[").unwrap_err(),
            PathError::Unsupported { .. }
        ));
        assert!(matches!(
            validate_write_path("a[x]").unwrap_err(),
            PathError::Syntax { .. }
        ));
        assert!(matches!(
            validate_write_path("a['x").unwrap_err(),
            PathError::Syntax { .. }
        ));
        assert_eq!(validate_write_path("  "), Err(PathError::Empty));
    }

    #[test]
    fn writes_reject_conflicts_and_huge_indices() {
        let mut v = json!({"a": "text"});
        let err = write_path(&mut v, "a.b", json!(1)).unwrap_err();
        assert_eq!(
            err,
            PathError::Conflict {
                path: "a.b".into(),
                at: "$['a']".into(),
                found: "a string"
            }
        );
        let mut v = json!({"a": [1]});
        assert!(write_path(&mut v, "a.b", json!(1)).is_err());
        let mut v = Value::Null;
        let err = write_path(&mut v, "a[99999999999]", json!(1)).unwrap_err();
        assert!(matches!(err, PathError::IndexTooLarge { .. }));
        assert!(validate_write_path("a[999999999999999999999999]").is_err());
    }

    #[test]
    fn reads_quoted_names_with_escapes() {
        let v = json!({"it's": {"x": 5}});
        assert_eq!(read_path(&v, "$['it\\'s'].x").unwrap(), Some(json!(5)));
    }
}
