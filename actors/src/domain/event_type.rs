//! `EventType`: the stored `event_type` of every domain event as a value, generated from the
//! one list of variants (`with_variants!`), so code names event types without spelling strings.

use super::events::{DomainEvent, with_variants};

macro_rules! define_event_type {
    ($($variant:ident),* $(,)?) => {
        /// The type of a [`DomainEvent`]; [`EventType::as_str`] is its stored `event_type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($variant),*
        }

        impl EventType {
            /// Every event type, in catalogue order.
            pub const ALL: &'static [EventType] = &[$(Self::$variant),*];

            /// The stored `event_type` (the variant's name).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant)),*
                }
            }
        }

        impl DomainEvent {
            /// This event's type.
            pub fn kind(&self) -> EventType {
                match self {
                    $(Self::$variant(_) => EventType::$variant),*
                }
            }
        }
    };
}

with_variants!(define_event_type);

impl EventType {
    /// The type stored as `name`; `None` for a name that is not in the catalogue.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }
}

/// The stored names of `types`, for reads and subscriptions by type (usable in a `const`).
pub const fn names<const N: usize>(types: [EventType; N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = types[i].as_str();
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        let distinct: std::collections::HashSet<_> =
            EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(distinct.len(), EventType::ALL.len());
        assert_eq!(EventType::parse("NoSuchEvent"), None);
        assert_eq!(
            names([EventType::SessionQueued, EventType::ScheduleFired]),
            ["SessionQueued", "ScheduleFired"]
        );
    }
}
