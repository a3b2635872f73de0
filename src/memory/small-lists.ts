/**
 * Lists that usually hold one item. A push onto an empty JavaScript array
 * reserves 16 places (about 130 bytes more than one needs); a state kept for
 * each of 10,000 connections or groups (a hostile capture's) pays that many
 * times. So the first item gets a list of its own size.
 */

/** The empty list a state starts with: shared, frozen (a write throws), never added to: `appended` makes a list of its own. */
export const NO_ITEMS: never[] = Object.freeze([]) as unknown as never[];

/**
 * The list with `x` added at its end: a new list of one for an empty list
 * (also a shared, frozen empty one, which is never added to), else `list`
 * itself. The caller keeps what it returns.
 */
export function appended<T>(list: T[], x: T): T[] {
  if (list.length === 0) return [x];
  list.push(x);
  return list;
}
