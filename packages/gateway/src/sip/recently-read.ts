/**
 * `read` with a memory of the last `size` texts it read and what each read as. A message's
 * headers are read many times while it is handled (its From and To by the parser, admission, the
 * contact table, the call tokens and the call events; its top Via by the transaction layer and
 * the proxy; its Request-URI by routing three times), and each reading allocates. Only for
 * readers whose results are never changed afterwards: their types are read-only.
 */
export function recentlyRead<T>(read: (text: string) => T, size: number): (text: string) => T {
  const recent = new Map<string, T>();
  return (text) => {
    const known = recent.get(text);
    // `has` only for a reading that was undefined (a malformed value): the rare case.
    if (known !== undefined || recent.has(text)) return known as T;
    const result = read(text);
    // Insertion order is age order: the oldest goes first.
    if (recent.size >= size) recent.delete(recent.keys().next().value as string);
    recent.set(text, result);
    return result;
  };
}
