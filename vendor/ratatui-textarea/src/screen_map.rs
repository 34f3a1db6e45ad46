use crate::cursor::{DataCursor, ScreenCursor};
use crate::textarea::TextArea;
use crate::util::{char_width, num_digits};
use crate::wrap::{WrapMode, WrappedLine, effective_wrap_width, wrapped_rows};

#[derive(Debug, Clone, Copy)]
pub(crate) struct ScreenLine {
    pub wrapped: WrappedLine,
    pub screen_width: usize,
    pub cursor_max_col: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DataLine {
    pub first_screen_line: usize,
    pub screen_line_count: usize,
    pub pure_ascii: bool,
}

// myzoo patch: how many times the one-row fast path below ran on this thread. Unit tests only,
// so that they can prove the fast path runs (a test comparing its result with a full rebuild
// would pass just as well if every edit fell back to the rebuild).
#[cfg(test)]
thread_local! {
    pub(crate) static ROW_UPDATES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn is_pure_ascii(line: &str) -> bool {
    line.is_ascii() && !line.contains('\t')
}

fn char_display_width(c: char, col: usize, tab_len: u8, mask: Option<char>) -> usize {
    // A masked line is drawn as one mask character per char, so each char is as wide as the mask.
    if let Some(mask) = mask {
        char_width(mask)
    } else if c == '\t' {
        let tab = tab_len.max(1) as usize;
        let pad = tab - (col % tab);
        pad.max(1)
    } else {
        char_width(c)
    }
}

fn display_width(text: &str, tab_len: u8, mask: Option<char>) -> usize {
    let mut col = 0usize;
    for c in text.chars() {
        col += char_display_width(c, col, tab_len, mask);
    }
    col
}

fn screen_col_for_char_offset(
    text: &str,
    char_offset: usize,
    tab_len: u8,
    mask: Option<char>,
) -> usize {
    let mut col = 0usize;
    for c in text.chars().take(char_offset) {
        col += char_display_width(c, col, tab_len, mask);
    }
    col
}

fn char_offset_for_screen_col(
    text: &str,
    screen_col: usize,
    tab_len: u8,
    mask: Option<char>,
) -> usize {
    let mut col = 0usize;
    let mut chars = 0usize;
    for c in text.chars() {
        if col >= screen_col {
            break;
        }
        let width = char_display_width(c, col, tab_len, mask);
        if col + width > screen_col {
            break;
        }
        col += width;
        chars += 1;
    }
    chars
}

impl TextArea<'_> {
    fn fallback_rows(&self) -> Vec<WrappedLine> {
        self.lines
            .iter()
            .enumerate()
            .map(|(row, line)| WrappedLine {
                row,
                start_byte: 0,
                end_byte: line.len(),
                start_col: 0,
                end_col: line.chars().count(),
                first_in_row: true,
                last_in_row: true,
            })
            .collect()
    }

    pub(crate) fn screen_map_load(&self) {
        let wrap_width = if self.wrap_mode() != WrapMode::None {
            let width = self.area.get().width;
            if width > 0 {
                let line_number_len = self
                    .line_number_style()
                    .map(|_| num_digits(self.lines.len()));
                Some(effective_wrap_width(width, line_number_len))
            } else {
                None
            }
        } else {
            None
        };

        let rows = match wrap_width {
            Some(width) => wrapped_rows(
                &self.lines,
                self.wrap_mode(),
                width,
                self.tab_length(),
                self.mask_char(),
            ),
            None => self.fallback_rows(),
        };

        let mut screen_lines = Vec::with_capacity(rows.len());
        let mut data_pointers = vec![DataLine::default(); self.lines.len()];
        let mut current_row = 0usize;

        for (screen_idx, wrapped) in rows.into_iter().enumerate() {
            while current_row < wrapped.row {
                current_row += 1;
            }

            if data_pointers[wrapped.row].screen_line_count == 0 {
                data_pointers[wrapped.row].first_screen_line = screen_idx;
                data_pointers[wrapped.row].pure_ascii = is_pure_ascii(&self.lines[wrapped.row]);
            }
            data_pointers[wrapped.row].screen_line_count += 1;

            let fragment = &self.lines[wrapped.row][wrapped.start_byte..wrapped.end_byte];
            let char_count = wrapped.end_col.saturating_sub(wrapped.start_col);
            let cursor_max_col = if wrapped.last_in_row {
                display_width(fragment, self.tab_length(), self.mask_char())
            } else {
                screen_col_for_char_offset(
                    fragment,
                    char_count.saturating_sub(1),
                    self.tab_length(),
                    self.mask_char(),
                )
            };
            screen_lines.push(ScreenLine {
                wrapped,
                screen_width: display_width(fragment, self.tab_length(), self.mask_char()),
                cursor_max_col,
            });
        }

        *self.screen_lines.borrow_mut() = screen_lines;
        *self.data_pointers.borrow_mut() = data_pointers;
    }

    /// myzoo patch: after an edit that changed only `row` and not the number of lines, with no
    /// wrapping, update that row's entries instead of rebuilding the whole map. The rebuild is
    /// O(lines) per keystroke, 14 ms for a 56,000-line document. Returns false when the fast
    /// path does not apply (the caller then rebuilds).
    pub(crate) fn screen_map_update_row(&self, row: usize) -> bool {
        if self.wrap_mode() != WrapMode::None || row >= self.lines.len() {
            return false;
        }
        let mut screen_lines = self.screen_lines.borrow_mut();
        let mut data_pointers = self.data_pointers.borrow_mut();
        if screen_lines.len() != self.lines.len() || data_pointers.len() != self.lines.len() {
            return false;
        }
        let line = &self.lines[row];
        let width = display_width(line, self.tab_length(), self.mask_char());
        let wrapped = WrappedLine {
            row,
            start_byte: 0,
            end_byte: line.len(),
            start_col: 0,
            end_col: line.chars().count(),
            first_in_row: true,
            last_in_row: true,
        };
        screen_lines[row] = ScreenLine { wrapped, screen_width: width, cursor_max_col: width };
        data_pointers[row] = DataLine { first_screen_line: row, screen_line_count: 1, pure_ascii: is_pure_ascii(line) };
        #[cfg(test)]
        ROW_UPDATES.with(|n| n.set(n.get() + 1));
        true
    }

    pub(crate) fn screen_lines_count(&self) -> usize {
        self.screen_lines.borrow().len()
    }

    pub(crate) fn screen_line_width(&self, row: usize) -> usize {
        self.screen_lines.borrow()[row].screen_width
    }

    pub(crate) fn screen_line_max_cursor_col(&self, row: usize) -> usize {
        self.screen_lines.borrow()[row].cursor_max_col
    }

    pub(crate) fn screen_line(&self, row: usize) -> ScreenLine {
        self.screen_lines.borrow()[row]
    }

    pub(crate) fn screen_to_array(&self, screen: ScreenCursor) -> DataCursor {
        if let Some(dc) = screen.dc {
            return dc;
        }

        let line = self.screen_line(screen.row);
        let fragment =
            &self.lines[line.wrapped.row][line.wrapped.start_byte..line.wrapped.end_byte];
        let char_offset =
            char_offset_for_screen_col(fragment, screen.col, self.tab_length(), self.mask_char());
        DataCursor(line.wrapped.row, line.wrapped.start_col + char_offset)
    }

    pub(crate) fn array_to_screen(&self, array: DataCursor) -> ScreenCursor {
        let data_line = &self.data_pointers.borrow()[array.0];
        let screen_lines = self.screen_lines.borrow();

        let mut screen_idx = data_line.first_screen_line;
        for idx in
            data_line.first_screen_line..data_line.first_screen_line + data_line.screen_line_count
        {
            let line = screen_lines[idx];
            let contains = if line.wrapped.last_in_row {
                line.wrapped.start_col <= array.1 && array.1 <= line.wrapped.end_col
            } else {
                line.wrapped.start_col <= array.1 && array.1 < line.wrapped.end_col
            };
            if contains {
                screen_idx = idx;
                break;
            }
        }

        let line = screen_lines[screen_idx];
        let fragment = &self.lines[array.0][line.wrapped.start_byte..line.wrapped.end_byte];
        let char_offset = array.1.saturating_sub(line.wrapped.start_col);
        let col =
            screen_col_for_char_offset(fragment, char_offset, self.tab_length(), self.mask_char());

        ScreenCursor {
            row: screen_idx,
            col,
            char: self.lines[array.0].chars().nth(array.1),
            dc: Some(array),
        }
    }

    pub(crate) fn data_cursor(&self, screen: ScreenCursor) -> DataCursor {
        screen.to_array_cursor(self)
    }

    pub(crate) fn increment_screen_cursor(&self, screen: ScreenCursor) -> ScreenCursor {
        let dc = self.data_cursor(screen);
        self.array_to_screen(DataCursor(dc.0, dc.1 + 1))
    }

    pub(crate) fn decrement_screen_cursor(&self, screen: ScreenCursor) -> ScreenCursor {
        let dc = self.data_cursor(screen);
        self.array_to_screen(DataCursor(dc.0, dc.1 - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui_core::layout::Rect;

    fn make_textarea(lines: &[&str], wrap_mode: WrapMode, width: u16) -> TextArea<'static> {
        let mut textarea = TextArea::from(lines.iter().copied());
        textarea.set_wrap_mode(wrap_mode);
        textarea.area.set(Rect {
            x: 0,
            y: 0,
            width,
            height: 40,
        });
        textarea.screen_map_load();
        textarea
    }

    fn assert_round_trips(textarea: &TextArea<'_>) {
        for (row, line) in textarea.lines.iter().enumerate() {
            for col in 0..=line.chars().count() {
                let dc = DataCursor(row, col);
                let sc = textarea.array_to_screen(dc);
                assert_eq!(textarea.screen_to_array(sc), dc);

                let detached = ScreenCursor { dc: None, ..sc };
                assert_eq!(textarea.screen_to_array(detached), dc);
                assert_eq!(
                    textarea.array_to_screen(textarea.screen_to_array(detached)),
                    sc
                );
            }
        }
    }

    #[test]
    fn screen_map_round_trips_ascii_word_wrap() {
        let textarea = make_textarea(
            &[
                "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
                "Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
            ],
            WrapMode::Word,
            24,
        );

        assert!(textarea.screen_lines_count() > textarea.lines.len());
        assert_round_trips(&textarea);
    }

    #[test]
    fn screen_map_round_trips_cjk_glyph_wrap() {
        let textarea = make_textarea(
            &["混合中文字符和ASCIIabc来验证屏幕坐标与数据坐标的往返转换。"],
            WrapMode::Glyph,
            12,
        );

        assert!(textarea.screen_lines_count() > textarea.lines.len());
        assert_round_trips(&textarea);
    }

    #[test]
    fn screen_map_round_trips_multilingual_word_or_glyph_wrap() {
        let textarea = make_textarea(
            &[
                "ASCII and русский текст can share one buffer.",
                "第二行 mixed-width 内容 with English words.",
            ],
            WrapMode::WordOrGlyph,
            18,
        );

        assert!(textarea.screen_lines_count() > textarea.lines.len());
        assert_round_trips(&textarea);
    }

    /// myzoo patch: the one-row update gives exactly what a full rebuild gives, and it is what
    /// ran (one fast update per edit, no fallback to the rebuild).
    #[test]
    fn one_row_updates_match_a_full_rebuild() {
        let mut textarea = make_textarea(&["{", "  \"a\": 1,", "  \"b\": \"tab\there\"", "}"], WrapMode::None, 40);
        let edits: [(usize, usize, Option<char>); 5] =
            [(1, 3, Some('x')), (2, 0, Some('é')), (1, 4, None), (0, 1, Some('\t')), (3, 1, Some('漢'))];
        for (row, col, ch) in edits {
            textarea.move_cursor(crate::CursorMove::Jump(row as u16, col as u16));
            let fast_before = ROW_UPDATES.with(|n| n.get());
            match ch {
                Some(c) => textarea.insert_char(c),
                None => {
                    assert!(textarea.delete_next_char());
                }
            }
            assert_eq!(ROW_UPDATES.with(|n| n.get()), fast_before + 1, "editing row {row} did not take the fast path");
            let incremental = format!("{:?} {:?}", textarea.screen_lines.borrow(), textarea.data_pointers.borrow());
            textarea.screen_map_load();
            let full = format!("{:?} {:?}", textarea.screen_lines.borrow(), textarea.data_pointers.borrow());
            assert_eq!(incremental, full, "after editing row {row}");
        }
    }

    /// myzoo patch: edits the fast path must not take — a new line, a joined line, any edit
    /// with wrapping on — rebuild the map, and the map is still right.
    #[test]
    fn edits_across_rows_or_with_wrapping_rebuild_the_map() {
        let check = |textarea: &mut TextArea<'_>, what: &str, edit: &dyn Fn(&mut TextArea<'_>)| {
            let fast_before = ROW_UPDATES.with(|n| n.get());
            edit(textarea);
            assert_eq!(ROW_UPDATES.with(|n| n.get()), fast_before, "{what}: took the one-row fast path");
            let after_edit = format!("{:?} {:?}", textarea.screen_lines.borrow(), textarea.data_pointers.borrow());
            textarea.screen_map_load();
            let full = format!("{:?} {:?}", textarea.screen_lines.borrow(), textarea.data_pointers.borrow());
            assert_eq!(after_edit, full, "{what}");
        };
        let mut textarea = make_textarea(&["{", "  \"a\": 1,", "}"], WrapMode::None, 40);
        textarea.move_cursor(crate::CursorMove::Jump(1, 4));
        check(&mut textarea, "a new line", &|t| t.insert_newline());
        assert_eq!(textarea.lines.len(), 4);
        textarea.move_cursor(crate::CursorMove::Jump(2, 0));
        check(&mut textarea, "lines joined", &|t| assert!(t.delete_char()));
        assert_eq!(textarea.lines.len(), 3);

        let mut wrapped = make_textarea(&["one two three four five six seven", "x"], WrapMode::Word, 10);
        wrapped.move_cursor(crate::CursorMove::Jump(0, 3));
        check(&mut wrapped, "an edit with word wrap", &|t| t.insert_char('!'));
    }
}
