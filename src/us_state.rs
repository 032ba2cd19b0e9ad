//! `UsState`: the request's two-letter state code, with an explicit escape
//! hatch for codes the documented list lacks (territories, new codes).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

macro_rules! us_states {
    ($( $variant:ident = $code:literal ),* $(,)?) => {
        /// Two-letter USPS code of the lead's US state, as sent in a request.
        ///
        /// The documented list was not readable; the 50 states and DC are named
        /// variants. Any other two-letter code (the territories `PR`, `GU`, `VI`,
        /// `AS`, `MP`, or a code the server accepts that this list lacks) is sent
        /// through the explicit escape hatch [`UsState::Other`], made with
        /// `UsState::other("PR")?` (or `"PR".parse()?`), which checks that the
        /// code is two capital letters.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum UsState {
            $(
                #[doc = concat!("`", $code, "`")]
                $variant,
            )*
            /// Any other two-letter code, sent as given.
            Other(StateCode),
        }

        impl UsState {
            /// The 50 states and DC, in the order of the spec's enum.
            pub const NAMED: &[UsState] = &[$(UsState::$variant),*];

            /// The code sent on the wire.
            pub fn code(&self) -> &str {
                match self {
                    $(UsState::$variant => $code,)*
                    UsState::Other(code) => code.as_str(),
                }
            }

            /// The named variant of a known code (exact, upper case).
            fn named(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(UsState::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

us_states! {
    Al = "AL", Ak = "AK", Az = "AZ", Ar = "AR", Ca = "CA", Co = "CO", Ct = "CT", De = "DE",
    Dc = "DC", Fl = "FL", Ga = "GA", Hi = "HI", Id = "ID", Il = "IL", In = "IN", Ia = "IA",
    Ks = "KS", Ky = "KY", La = "LA", Me = "ME", Md = "MD", Ma = "MA", Mi = "MI", Mn = "MN",
    Ms = "MS", Mo = "MO", Mt = "MT", Ne = "NE", Nv = "NV", Nh = "NH", Nj = "NJ", Nm = "NM",
    Ny = "NY", Nc = "NC", Nd = "ND", Oh = "OH", Ok = "OK", Or = "OR", Pa = "PA", Ri = "RI",
    Sc = "SC", Sd = "SD", Tn = "TN", Tx = "TX", Ut = "UT", Vt = "VT", Va = "VA", Wa = "WA",
    Wv = "WV", Wi = "WI", Wy = "WY",
}

/// A code of two capital ASCII letters, for [`UsState::Other`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateCode([u8; 2]);

impl StateCode {
    /// `code` if it is two capital ASCII letters.
    pub fn new(code: &str) -> Result<Self, InvalidUsState> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Self([*a, *b])),
            _ => Err(InvalidUsState(code.to_owned())),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        // Two ASCII letters, checked by `new`.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Why a text is not a state code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a two-letter state code (two capital letters, for example CA or PR)")]
pub struct InvalidUsState(pub String);

impl UsState {
    /// A named variant for a listed code, [`UsState::Other`] for any other two
    /// capital letters, and an error for anything else (`ca`, `California`).
    pub fn parse(code: &str) -> Result<Self, InvalidUsState> {
        match Self::named(code) {
            Some(named) => Ok(named),
            None => StateCode::new(code).map(Self::Other),
        }
    }

    /// The escape hatch: [`UsState::Other`] for a code the list lacks (`PR`,
    /// `GU`, ...); a listed code gives its named variant.
    pub fn other(code: &str) -> Result<Self, InvalidUsState> {
        Self::parse(code)
    }
}

impl FromStr for UsState {
    type Err = InvalidUsState;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code)
    }
}

impl fmt::Display for UsState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for UsState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for UsState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for UsState {
    fn schema_name() -> String {
        "UsState".to_owned()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, SchemaObject};
        // The spec's enum: `Other` is the escape hatch the spec's description names.
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            enum_values: Some(Self::NAMED.iter().map(|s| s.code().into()).collect()),
            ..Default::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_to_named_variants_or_the_escape_hatch() {
        assert_eq!(UsState::parse("CA"), Ok(UsState::Ca));
        let pr = UsState::other("PR").unwrap();
        assert!(matches!(pr, UsState::Other(code) if code.as_str() == "PR"));
        assert_eq!(UsState::other("CA"), Ok(UsState::Ca));
        for bad in ["ca", "California", "P", "PRR", "P1", "ÉÉ"] {
            assert!(UsState::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(UsState::NAMED.len(), 51);
        assert_eq!(serde_json::to_string(&pr).unwrap(), r#""PR""#);
        assert_eq!(std::mem::size_of::<UsState>(), 3);
    }
}
