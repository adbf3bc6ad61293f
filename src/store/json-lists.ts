// Lists of strings (scopes, IP allow-lists) are stored as JSON text, null for "none set";
// the repositories turn them into arrays and back, so nothing above the store sees JSON.
export const storedList = (list: readonly string[] | null | undefined): string | null => (list === null || list === undefined ? null : JSON.stringify(list));

export const parsedList = (text: string | null): string[] | null => (text === null ? null : (JSON.parse(text) as string[]));
