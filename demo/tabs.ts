/**
 * The five views as ARIA tabs: click or arrow keys to switch; the URL's #single / #batch / #linear /
 * #train / #bench opens a view directly (and the back button returns to the previous one). A view's
 * panel hears a `shown` event each time it is selected, so a view can load what it needs on first
 * sight rather than with the page.
 */
const TABS = ['single', 'batch', 'linear', 'train', 'bench'] as const;
type Tab = (typeof TABS)[number];

function tabOf(hash: string): Tab {
  const name = hash.replace('#', '');
  return (TABS as readonly string[]).includes(name) ? (name as Tab) : 'single';
}

function select(tab: Tab, focus = false): void {
  for (const name of TABS) {
    const button = document.getElementById(`tab-${name}`)!;
    const selected = name === tab;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    const view = document.getElementById(`view-${name}`)!;
    view.hidden = !selected;
    if (selected && focus) button.focus();
    if (selected) view.dispatchEvent(new Event('shown'));
  }
  // Charts sized while hidden have no size: tell them the layout changed.
  window.dispatchEvent(new Event('resize'));
}

export function setUpTabs(): void {
  for (const [index, name] of TABS.entries()) {
    const button = document.getElementById(`tab-${name}`)!;
    button.addEventListener('click', () => {
      history.replaceState(null, '', `#${name}`);
      select(name);
    });
    button.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step === 0) return;
      const next = TABS[(index + step + TABS.length) % TABS.length]!;
      history.replaceState(null, '', `#${next}`);
      select(next, true);
    });
  }
  window.addEventListener('hashchange', () => select(tabOf(location.hash)));
  select(tabOf(location.hash));
}
