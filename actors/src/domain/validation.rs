//! Field-level validation errors that name the field and the rule it broke.

use serde::Serialize;

/// One broken rule: `field` is a JSON path such as `flowConfig[2].config.iterations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub rule: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// Collects field errors; `finish` returns them all at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn push(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            rule: rule.into(),
        });
    }

    pub fn non_empty(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(field, "must not be empty");
        }
    }

    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let n = value.chars().count();
        if n < min || n > max {
            self.push(
                field,
                format!("length must be between {min} and {max} characters"),
            );
        }
    }

    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.push(field, format!("must be between {min} and {max}"));
        }
    }

    pub fn http_url(&mut self, field: &str, value: &str) {
        let ok = (value.starts_with("http://") || value.starts_with("https://"))
            && value
                .split("://")
                .nth(1)
                .is_some_and(|rest| !rest.is_empty());
        if !ok && !value.trim().is_empty() {
            self.push(field, "must be an http:// or https:// URL");
        }
    }

    pub fn extend(&mut self, errors: Vec<FieldError>) {
        self.errors.extend(errors);
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}
