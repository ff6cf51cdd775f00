//! Lines of Arabic, Latin and Tifinagh text for the PDF certificate:
//! bidirectional ordering, a font per script, shaping and measuring.
//!
//! A line is split into level runs by the Unicode Bidirectional Algorithm
//! (UAX #9, `unicode-bidi`), each level run into pieces of one font, and
//! each piece is shaped by HarfBuzz's algorithm (`rustybuzz`) in its own
//! direction. krilla then writes the glyphs with a ToUnicode map, so that
//! text extracted from the PDF reads in logical order.

use krilla::geom::Point;
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use std::ops::Range;
use unicode_bidi::BidiInfo;

/// The Noto fonts of `fonts/`, embedded in the binary.
static LATIN_REGULAR: &[u8] = include_bytes!("../../fonts/NotoSans-Regular.ttf");
static LATIN_BOLD: &[u8] = include_bytes!("../../fonts/NotoSans-Bold.ttf");
static ARABIC_REGULAR: &[u8] = include_bytes!("../../fonts/NotoSansArabic-Regular.ttf");
static ARABIC_BOLD: &[u8] = include_bytes!("../../fonts/NotoSansArabic-Bold.ttf");
static TIFINAGH_REGULAR: &[u8] = include_bytes!("../../fonts/NotoSansTifinagh-Regular.ttf");

/// Smallest font size, in points, that [`Fonts::fit`] shrinks a line to.
const MIN_FONT_SIZE: f32 = 7.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    Latin,
    Arabic,
    Tifinagh,
}

/// One font file, for krilla and for the shaper.
struct Face {
    data: &'static [u8],
    font: Font,
}

impl Face {
    fn load(data: &'static [u8]) -> anyhow::Result<Self> {
        let font = Font::new(data.to_vec().into(), 0)
            .ok_or_else(|| anyhow::anyhow!("an embedded font file could not be read"))?;
        Ok(Self { data, font })
    }
}

/// The regular and bold faces of each script.
pub struct Fonts {
    latin: Face,
    latin_bold: Face,
    arabic: Face,
    arabic_bold: Face,
    /// Noto has no bold Tifinagh, so bold Tifinagh text uses the regular face.
    tifinagh: Face,
}

/// Piece of a line in one font and one direction, shaped.
struct Piece {
    text: String,
    script: Script,
    bold: bool,
    glyphs: Vec<KrillaGlyph>,
    /// Sum of the advances, in ems.
    width_em: f32,
}

/// A shaped line, its pieces in visual order from left to right.
pub struct Line {
    pieces: Vec<Piece>,
    pub size: f32,
}

impl Line {
    /// Width in points.
    pub fn width(&self) -> f32 {
        self.pieces.iter().map(|piece| piece.width_em).sum::<f32>() * self.size
    }
}

impl Fonts {
    pub fn load() -> anyhow::Result<Self> {
        Ok(Self {
            latin: Face::load(LATIN_REGULAR)?,
            latin_bold: Face::load(LATIN_BOLD)?,
            arabic: Face::load(ARABIC_REGULAR)?,
            arabic_bold: Face::load(ARABIC_BOLD)?,
            tifinagh: Face::load(TIFINAGH_REGULAR)?,
        })
    }

    fn face(&self, script: Script, bold: bool) -> &Face {
        match (script, bold) {
            (Script::Latin, false) => &self.latin,
            (Script::Latin, true) => &self.latin_bold,
            (Script::Arabic, false) => &self.arabic,
            (Script::Arabic, true) => &self.arabic_bold,
            (Script::Tifinagh, _) => &self.tifinagh,
        }
    }

    /// Shapes `text` as one line at `size` points.
    pub fn line(&self, text: &str, size: f32, bold: bool) -> Line {
        let text = strip_controls(text);
        let mut pieces = Vec::new();
        if !text.is_empty() {
            let bidi = BidiInfo::new(&text, None);
            for paragraph in &bidi.paragraphs {
                let (levels, runs) = bidi.visual_runs(paragraph, paragraph.range.clone());
                for run in runs {
                    let right_to_left = levels[run.start].is_rtl();
                    let covers = |script, c| self.covers(script, c);
                    let mut run_pieces: Vec<Piece> = split_by_script(&text, run, covers)
                        .into_iter()
                        .map(|(range, script)| {
                            self.shape(&text[range], script, bold, right_to_left)
                        })
                        .collect();
                    if right_to_left {
                        run_pieces.reverse();
                    }
                    pieces.extend(run_pieces);
                }
            }
        }
        Line { pieces, size }
    }

    /// Shapes `text` at `size` points, or smaller, down to
    /// [`MIN_FONT_SIZE`], so that it fits in `max_width` points.
    pub fn fit(&self, text: &str, size: f32, bold: bool, max_width: f32) -> Line {
        let mut line = self.line(text, size, bold);
        let width = line.width();
        if width > max_width {
            line.size = (size * max_width / width).max(MIN_FONT_SIZE);
        }
        line
    }

    fn covers(&self, script: Script, c: char) -> bool {
        rustybuzz::Face::from_slice(self.face(script, false).data, 0)
            .is_some_and(|face| face.glyph_index(c).is_some())
    }

    fn shape(&self, text: &str, script: Script, bold: bool, right_to_left: bool) -> Piece {
        let face = self.face(script, bold);
        let mut glyphs = Vec::new();
        let mut width_em = 0.0;
        if let Some(shaper) = rustybuzz::Face::from_slice(face.data, 0) {
            let units_per_em = shaper.units_per_em() as f32;
            let mut buffer = rustybuzz::UnicodeBuffer::new();
            buffer.push_str(text);
            buffer.guess_segment_properties();
            buffer.set_direction(if right_to_left {
                rustybuzz::Direction::RightToLeft
            } else {
                rustybuzz::Direction::LeftToRight
            });
            let output = rustybuzz::shape(&shaper, &[], buffer);
            let infos = output.glyph_infos();
            let positions = output.glyph_positions();

            // A glyph stands for the characters from its cluster start to
            // the next larger cluster start, whatever the glyph order.
            let mut starts: Vec<usize> = infos.iter().map(|info| info.cluster as usize).collect();
            starts.sort_unstable();
            starts.dedup();
            for (info, position) in infos.iter().zip(positions) {
                let start = info.cluster as usize;
                let end = starts
                    .iter()
                    .copied()
                    .find(|&next| next > start)
                    .unwrap_or(text.len());
                let advance = position.x_advance as f32 / units_per_em;
                width_em += advance;
                glyphs.push(KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    advance,
                    position.x_offset as f32 / units_per_em,
                    position.y_offset as f32 / units_per_em,
                    position.y_advance as f32 / units_per_em,
                    start..end,
                    None,
                ));
            }
        }
        Piece {
            text: text.to_owned(),
            script,
            bold,
            glyphs,
            width_em,
        }
    }

    /// Draws `line` with its left end at `x` and its baseline at `y`.
    pub fn draw(&self, surface: &mut Surface, line: &Line, x: f32, y: f32) {
        let mut x = x;
        for piece in &line.pieces {
            let face = self.face(piece.script, piece.bold);
            surface.draw_glyphs(
                Point::from_xy(x, y),
                &piece.glyphs,
                face.font.clone(),
                &piece.text,
                line.size,
                false,
            );
            x += piece.width_em * line.size;
        }
    }
}

/// Removes the characters that reorder text or hide in it (bidirectional
/// embeddings, overrides and isolates, directional marks, zero-width
/// space, byte order mark), so that a name in a credential cannot make the
/// printed line read as something else.
fn strip_controls(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
            )
        })
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn script_of(c: char) -> Option<Script> {
    match c {
        '\u{0600}'..='\u{06FF}'
        | '\u{0750}'..='\u{077F}'
        | '\u{08A0}'..='\u{08FF}'
        | '\u{FB50}'..='\u{FDFF}'
        | '\u{FE70}'..='\u{FEFF}' => Some(Script::Arabic),
        '\u{2D30}'..='\u{2D7F}' => Some(Script::Tifinagh),
        c if c.is_alphanumeric() => Some(Script::Latin),
        // Spaces and punctuation take the script of the text around them.
        _ => None,
    }
}

/// Splits `range` of `text` into pieces of one script each, in logical
/// order. Characters of no script join the piece before them when its
/// font has a glyph for them, and go to the Latin font otherwise.
fn split_by_script(
    text: &str,
    range: Range<usize>,
    covers: impl Fn(Script, char) -> bool,
) -> Vec<(Range<usize>, Script)> {
    let slice = &text[range.clone()];
    let mut pieces: Vec<(Range<usize>, Script)> = Vec::new();
    let mut current = slice.chars().find_map(script_of).unwrap_or(Script::Latin);
    let mut start = range.start;
    for (offset, c) in slice.char_indices() {
        let at = range.start + offset;
        let script = match script_of(c) {
            Some(script) => script,
            None if covers(current, c) => current,
            None => Script::Latin,
        };
        if script != current && at > start {
            pieces.push((start..at, current));
            start = at;
        }
        current = script;
    }
    if range.end > start {
        pieces.push((start..range.end, current));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_with_neutrals_joined() {
        let text = "ⴰⵣⵔⴼ 112-12 ⵏ";
        let pieces: Vec<(String, Script)> = split_by_script(text, 0..text.len(), |_, _| true)
            .into_iter()
            .map(|(range, script)| (text[range].to_owned(), script))
            .collect();
        assert_eq!(
            pieces,
            vec![
                ("ⴰⵣⵔⴼ ".to_owned(), Script::Tifinagh),
                ("112-12 ".to_owned(), Script::Latin),
                ("ⵏ".to_owned(), Script::Tifinagh),
            ]
        );
    }

    #[test]
    fn controls_are_removed() {
        assert_eq!(strip_controls("a\u{202E}b\u{200F}c\nd"), "abc d");
    }

    #[test]
    fn arabic_line_puts_digits_left_to_right_inside() {
        let fonts = Fonts::load().expect("fonts");
        let line = fonts.line("القانون 112.12 المتعلق", 12.0, false);
        let texts: Vec<&str> = line.pieces.iter().map(|p| p.text.as_str()).collect();
        // Visual order, left to right: the last Arabic word, the number
        // with its digits left to right, then the first word.
        assert_eq!(texts, vec![" المتعلق", "112.12", "القانون "]);
        let scripts: Vec<Script> = line.pieces.iter().map(|p| p.script).collect();
        assert_eq!(scripts, vec![Script::Arabic, Script::Latin, Script::Arabic]);
        assert!(line.pieces.iter().all(|p| !p.glyphs.is_empty()));
        assert!(line.width() > 0.0);
    }

    #[test]
    fn fit_shrinks_long_lines() {
        let fonts = Fonts::load().expect("fonts");
        let long = "Coopérative ".repeat(3);
        let line = fonts.fit(&long, 20.0, false, 200.0);
        assert!(line.size < 20.0);
        assert!(line.width() <= 200.5, "width {}", line.width());
    }
}
