//! The `code` persona: explanations that grow per message, and pipeline code (TypeScript,
//! Python or JavaScript) with one more function per session message, up to five.

use super::text::{contains_any, has_word};
use crate::mock::sessions::SessionView;

const STEPS: [(&str, &str); 5] = [
    (
        "validate_input",
        "Reject records that are missing required fields.",
    ),
    (
        "normalize_records",
        "Trim strings and lower-case identifiers.",
    ),
    (
        "enrich_records",
        "Attach derived fields such as the record's age in days.",
    ),
    (
        "aggregate_metrics",
        "Group records by category and count them.",
    ),
    (
        "render_report",
        "Format the aggregated metrics as text lines.",
    ),
];

const PARAGRAPHS: [&str; 6] = [
    "At a high level, the code reads a list of records, transforms them step by step, and produces a report.",
    "Each step is a pure function: it receives the output of the previous step and returns a new value without mutating its input.",
    "Validation comes first so that later steps can rely on every record having the required fields, which keeps them short.",
    "Normalisation and enrichment are separated because they change for different reasons: formatting rules versus business rules.",
    "Aggregation is where most of the cost lies; for large inputs you would stream records instead of holding them all in memory.",
    "Finally, rendering is kept apart from computing so the same metrics can feed a CLI, a web page or an export.",
];

#[derive(Clone, Copy)]
enum Lang {
    TypeScript,
    Python,
    JavaScript,
}

/// The reply of the code persona to `message`.
pub fn reply(message: &str, session: &SessionView) -> String {
    let n = usize::try_from(session.count).unwrap_or(usize::MAX);
    if contains_any(message, &["explain"]) {
        let paragraphs = n.saturating_add(1).clamp(2, PARAGRAPHS.len());
        return PARAGRAPHS[..paragraphs].join("\n\n");
    }
    let lang = if has_word(message, &["ts", "typescript"]) {
        Lang::TypeScript
    } else if has_word(message, &["py", "python"]) {
        Lang::Python
    } else {
        Lang::JavaScript
    };
    let functions = n.clamp(1, STEPS.len());
    let (fence, body) = match lang {
        Lang::TypeScript => ("typescript", typescript(functions)),
        Lang::Python => ("python", python(functions)),
        Lang::JavaScript => ("javascript", javascript(functions)),
    };
    format!("Here is a data pipeline with {functions} step(s):\n\n```{fence}\n{body}```")
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    for (i, part) in name.split('_').enumerate() {
        let mut chars = part.chars();
        match (i, chars.next()) {
            (0, Some(c)) => out.push(c),
            (_, Some(c)) => out.push(c.to_ascii_uppercase()),
            (_, None) => {}
        }
        out.extend(chars);
    }
    out
}

fn typescript(functions: usize) -> String {
    let mut out = String::from(
        "interface Item {\n  id: string;\n  category: string;\n  createdAt: Date;\n}\n\n",
    );
    for (name, doc) in &STEPS[..functions] {
        out.push_str(&format!(
            "/** {doc} */\nexport function {}(items: Item[]): Item[] {{\n  return items.filter((item) => item.id.length > 0);\n}}\n\n",
            camel(name)
        ));
    }
    let calls: Vec<String> = STEPS[..functions].iter().map(|(n, _)| camel(n)).collect();
    out.push_str(&format!(
        "export const pipeline = (items: Item[]): Item[] =>\n  [{}].reduce((acc, step) => step(acc), items);\n",
        calls.join(", ")
    ));
    out
}

fn python(functions: usize) -> String {
    let mut out = String::from(
        "from dataclasses import dataclass\n\n\n@dataclass\nclass Item:\n    id: str\n    category: str\n\n\n",
    );
    for (name, doc) in &STEPS[..functions] {
        out.push_str(&format!(
            "def {name}(items: list[Item]) -> list[Item]:\n    \"\"\"{doc}\"\"\"\n    return [item for item in items if item.id]\n\n\n"
        ));
    }
    let calls: Vec<&str> = STEPS[..functions].iter().map(|(n, _)| *n).collect();
    out.push_str(&format!(
        "def pipeline(items: list[Item]) -> list[Item]:\n    for step in ({},):\n        items = step(items)\n    return items\n",
        calls.join(", ")
    ));
    out
}

fn javascript(functions: usize) -> String {
    let mut out = String::new();
    for (name, doc) in &STEPS[..functions] {
        out.push_str(&format!(
            "// {doc}\nfunction {}(items) {{\n  return items.filter((item) => Boolean(item.id));\n}}\n\n",
            camel(name)
        ));
    }
    let calls: Vec<String> = STEPS[..functions].iter().map(|(n, _)| camel(n)).collect();
    out.push_str(&format!(
        "const pipeline = (items) => [{}].reduce((acc, step) => step(acc), items);\n\nmodule.exports = {{ pipeline }};\n",
        calls.join(", ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(count: u64) -> SessionView {
        SessionView {
            count,
            seed: 1,
            history: Vec::new(),
        }
    }

    #[test]
    fn code_grows_per_message() {
        let first = reply("write it in python", &s(1));
        assert!(first.contains("```python") && first.contains("def validate_input"));
        assert_eq!(first.matches("def ").count(), 2);
        let fifth = reply("write it in ts", &s(9));
        assert!(fifth.contains("```typescript") && fifth.contains("renderReport"));
        assert!(reply("write code", &s(2)).contains("```javascript"));
    }

    #[test]
    fn explanations_grow() {
        assert_eq!(reply("explain this", &s(1)).split("\n\n").count(), 2);
        assert_eq!(reply("explain this", &s(3)).split("\n\n").count(), 4);
        assert_eq!(reply("explain this", &s(30)).split("\n\n").count(), 6);
        assert_eq!(camel("aggregate_metrics"), "aggregateMetrics");
    }
}
