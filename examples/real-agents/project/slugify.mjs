// The code under improvement: turn a title into a URL slug. Deliberately naive.
export function slugify(title) {
  return title.toLowerCase().replace(/ /g, '-');
}
