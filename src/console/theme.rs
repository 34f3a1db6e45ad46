//! Themes: the files in `themes/` (compiled in), parsed into semantic styles. Colours live only
//! in those files; the views ask for `theme.selected`, never for a colour.

use std::str::FromStr;

use anyhow::{Context, Result};
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// Every built-in theme, by name, as shipped in `themes/`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("monochrome", include_str!("../../themes/monochrome.toml")),
];
pub const DEFAULT_THEME: &str = "dark";
/// The theme `NO_COLOR` forces.
pub const NO_COLOR_THEME: &str = "monochrome";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    styles: StylesFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underlined: bool,
    #[serde(default)]
    reversed: bool,
}

macro_rules! theme_styles {
    ($($field:ident),* $(,)?) => {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct StylesFile { $($field: StyleSpec,)* }

        /// Semantic styles; every field is required in a theme file.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            pub name: String,
            $(pub $field: Style,)*
        }

        impl Theme {
            fn from_file(file: ThemeFile) -> Result<Theme> {
                Ok(Theme {
                    name: file.name,
                    $($field: file.styles.$field.to_style().context(stringify!($field))?,)*
                })
            }
        }
    };
}

theme_styles!(
    text,
    muted,
    title,
    border,
    border_focused,
    selected,
    selected_unfocused,
    header,
    header_production,
    badge_ok,
    badge_warn,
    badge_error,
    badge_readonly,
    hint_key,
    hint_text,
    notice_info,
    notice_error,
    error,
    ephemeral,
    label,
    input,
    state_ok,
    state_warn,
    state_error,
    diff_added,
    diff_removed,
);

impl StyleSpec {
    fn to_style(&self) -> Result<Style> {
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            style = style.fg(parse_color(fg)?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(parse_color(bg)?);
        }
        let flags = [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underlined, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
        ];
        for (on, m) in flags {
            if on {
                style = style.add_modifier(m);
            }
        }
        Ok(style)
    }
}

fn parse_color(s: &str) -> Result<Color> {
    Color::from_str(s).map_err(|_| anyhow::anyhow!("unknown colour {s:?}"))
}

impl Theme {
    /// Parses a theme file's text (the same check applies to built-in and user themes).
    pub fn parse(text: &str) -> Result<Theme> {
        let file: ThemeFile = toml::from_str(text)?;
        Theme::from_file(file)
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Result<Theme> {
        let (_, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| anyhow::anyhow!("no theme named {name:?} (have: {})", names().join(", ")))?;
        Theme::parse(text).with_context(|| format!("theme {name}"))
    }

    /// The theme to start with: `NO_COLOR` wins, then the requested one, then the default.
    pub fn initial(requested: Option<&str>, no_color: bool) -> Result<Theme> {
        if no_color {
            return Theme::builtin(NO_COLOR_THEME);
        }
        Theme::builtin(requested.unwrap_or(DEFAULT_THEME))
    }
}

pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses_and_is_named_after_its_file() {
        for (name, _) in BUILTIN {
            let t = Theme::builtin(name).unwrap();
            assert_eq!(&t.name, name);
        }
    }

    #[test]
    fn monochrome_has_no_colour() {
        let t = Theme::builtin("monochrome").unwrap();
        let styles = [t.text, t.selected, t.header, t.badge_error, t.error, t.header_production];
        for s in styles {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert_eq!(Theme::initial(Some("dark"), true).unwrap().name, "monochrome");
    }

    #[test]
    fn bad_theme_files_are_rejected_with_the_field() {
        let good = include_str!("../../themes/dark.toml");
        let bad_colour = good.replace("fg = \"cyan\", bold = true }", "fg = \"chartreuse\", bold = true }");
        let err = format!("{:#}", Theme::parse(&bad_colour).unwrap_err());
        assert!(err.contains("chartreuse"), "{err}");
        let missing = good.replace("input = { fg = \"white\", bold = true }", "");
        assert!(Theme::parse(&missing).is_err());
        assert!(Theme::builtin("nope").is_err());
    }
}
