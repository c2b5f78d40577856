//! Simple-path syntax shared by template reads and writes: `$.a.b[0]`, `$['k']`, `a.0.b`.
//!
//! A simple path has names and non-negative indices only. Filters, wildcards, slices, unions
//! and recursive descent are reported as `PathError::Unsupported` so callers can decide.

use super::paths::PathError;

/// One step of a simple path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    Key(String),
    Index(usize),
}

/// Canonical JSONPath for simple segments: `$['a'][0]`.
pub(super) fn canonical(segments: &[Segment]) -> String {
    let mut out = String::from("$");
    for segment in segments {
        match segment {
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Key(key) => {
                out.push_str("['");
                for c in key.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("\\'"),
                        c if u32::from(c) < 0x20 => {
                            out.push_str(&format!("\\u{:04x}", u32::from(c)))
                        }
                        c => out.push(c),
                    }
                }
                out.push_str("']");
            }
        }
    }
    out
}

/// Parses a simple path: `$`, `$.a.b[0]`, `$['k']`, `a.0.b`, `messages[0].content`.
pub(super) fn parse_simple(path: &str) -> Result<Vec<Segment>, PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    let mut parser = Parser {
        path,
        chars: path.chars().collect(),
        pos: 0,
    };
    let mut segments = Vec::new();
    if parser.peek() == Some('$') {
        parser.pos += 1;
    } else if parser.peek() != Some('[') {
        segments.push(parser.name()?);
    }
    while let Some(c) = parser.peek() {
        parser.pos += 1;
        match c {
            '.' if parser.peek() == Some('.') => {
                return Err(parser.unsupported("recursive descent `..`"));
            }
            '.' => segments.push(parser.name()?),
            '[' => segments.push(parser.bracket()?),
            other => return Err(parser.syntax(format!("unexpected `{other}`"))),
        }
    }
    Ok(segments)
}

struct Parser<'a> {
    path: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn syntax(&self, reason: impl Into<String>) -> PathError {
        PathError::Syntax {
            path: self.path.to_string(),
            reason: reason.into(),
        }
    }

    fn unsupported(&self, what: &'static str) -> PathError {
        PathError::Unsupported {
            path: self.path.to_string(),
            what,
        }
    }

    /// A dotted segment: everything up to the next `.` or `[`; all digits means an index.
    fn name(&mut self) -> Result<Segment, PathError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == '.' || c == '[' {
                break;
            }
            if c == ']' {
                return Err(self.syntax("unexpected `]`"));
            }
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        match name.as_str() {
            "" => Err(self.syntax("empty segment")),
            "*" => Err(self.unsupported("a wildcard")),
            n if n.chars().all(|c| c.is_ascii_digit()) => n
                .parse()
                .map(Segment::Index)
                .map_err(|_| self.syntax("index is too large")),
            n if n.contains(['(', '?', '@']) => Err(self.unsupported("a filter expression")),
            _ => Ok(Segment::Key(name)),
        }
    }

    /// A bracket segment after `[`: `'key'`, `"key"` or a non-negative index, then `]`.
    fn bracket(&mut self) -> Result<Segment, PathError> {
        let segment = match self.peek() {
            Some(quote @ ('\'' | '"')) => {
                self.pos += 1;
                Segment::Key(self.quoted(quote)?)
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits: String = self.chars[start..self.pos].iter().collect();
                Segment::Index(
                    digits
                        .parse()
                        .map_err(|_| self.syntax("index is too large"))?,
                )
            }
            Some('*') => return Err(self.unsupported("a wildcard")),
            Some('?') => return Err(self.unsupported("a filter expression")),
            Some('-') => return Err(self.unsupported("a negative index")),
            Some(':') => return Err(self.unsupported("a slice")),
            _ => return Err(self.syntax("expected a quoted name or an index after `[`")),
        };
        match self.peek() {
            Some(']') => {
                self.pos += 1;
                Ok(segment)
            }
            Some(':') => Err(self.unsupported("a slice")),
            Some(',') => Err(self.unsupported("a union")),
            _ => Err(self.syntax("expected `]`")),
        }
    }

    fn quoted(&mut self, quote: char) -> Result<String, PathError> {
        let mut out = String::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| self.syntax("unterminated quoted name"))?;
            self.pos += 1;
            if c == quote {
                return Ok(out);
            }
            if c == '\\' {
                let escaped = self
                    .peek()
                    .ok_or_else(|| self.syntax("unterminated escape"))?;
                self.pos += 1;
                out.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
            } else {
                out.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dotted_and_bracketed_forms() {
        let expected = vec![
            Segment::Key("messages".into()),
            Segment::Index(0),
            Segment::Key("content".into()),
        ];
        for path in [
            "messages.0.content",
            "messages[0].content",
            "$.messages[0]['content']",
        ] {
            assert_eq!(parse_simple(path).unwrap(), expected, "{path}");
        }
        assert_eq!(parse_simple("$").unwrap(), vec![]);
        assert_eq!(canonical(&expected), "$['messages'][0]['content']");
    }

    #[test]
    fn canonical_escapes_quotes() {
        let segs = parse_simple("$['it\\'s'].x").unwrap();
        assert_eq!(
            segs,
            vec![Segment::Key("it's".into()), Segment::Key("x".into())]
        );
        assert_eq!(canonical(&segs), "$['it\\'s']['x']");
    }
}
