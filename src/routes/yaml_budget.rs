//! YAML into JSON with an expansion budget: every node the parser hands out counts, aliases
//! included, so an alias bomb (billion laughs) stops after [`MAX_YAML_NODES`] nodes instead of
//! expanding into gigabytes. serde_yaml's own repetition limit scales with the document size,
//! which a 4 MiB upload can still turn into billions of nodes.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Most nodes (scalars, lists, maps, after alias expansion) one import may produce.
pub const MAX_YAML_NODES: usize = 200_000;

/// Deserializes one YAML document into JSON, failing once `budget` nodes have been produced.
pub fn bounded_value<'de, D: Deserializer<'de>>(
    document: D,
    budget: &Cell<usize>,
) -> Result<Value, D::Error> {
    Bounded(budget).deserialize(document)
}

#[derive(Clone, Copy)]
struct Bounded<'a>(&'a Cell<usize>);

impl Bounded<'_> {
    fn spend<E: de::Error>(self) -> Result<(), E> {
        match self.0.get().checked_sub(1) {
            Some(left) => {
                self.0.set(left);
                Ok(())
            }
            None => Err(E::custom(format!(
                "the document expands to more than {MAX_YAML_NODES} nodes (YAML aliases?)"
            ))),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.spend()?;
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.spend()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.spend()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(self)? {
            let key = match key {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let value = map.next_value_seed(self)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Value>, String> {
        let budget = Cell::new(MAX_YAML_NODES);
        serde_yaml::Deserializer::from_str(text)
            .map(|doc| bounded_value(doc, &budget).map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn plain_documents_parse_as_json() {
        let docs = parse("name: a\nlist: [1, 2.5, true, null]\n---\n- x\n").unwrap();
        assert_eq!(docs[0]["list"][1], 2.5);
        assert_eq!(docs[1][0], "x");
        let docs = parse("base: &b {k: v}\ncopy: *b\n").unwrap();
        assert_eq!(docs[0]["copy"]["k"], "v");
    }

    #[test]
    fn an_alias_bomb_stops_at_the_budget() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert!(parse(&bomb).is_err());
    }

    #[test]
    fn a_wide_alias_bomb_within_serde_yamls_own_limit_stops_at_the_budget() {
        let items = vec!["x"; 5_000].join(", ");
        let refs = vec!["*w"; 100].join(", ");
        let err = parse(&format!("w: &w [{items}]\nall: [{refs}]\n")).unwrap_err();
        assert!(err.contains("expands to more than"), "{err}");
    }
}
