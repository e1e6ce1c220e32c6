import { describe, expect, it } from 'vitest';
import { ANSI, colorAllowed, createStyle, stripAnsi } from './style.js';
import { formatTable, visibleWidth } from './table.js';

const plain = createStyle(false);
const colored = createStyle(true);

describe('formatTable', () => {
  it('aligns columns two spaces apart, with no trailing spaces', () => {
    const text = formatTable(
      ['PATH', 'STATUS', 'FROM'],
      [
        ['config.env.FEATURE_CHECKOUT', 'drift', 'v2'],
        ['os.kernel', 'justified', '6.1'],
      ],
      { style: plain },
    );
    expect(text).toBe(
      [
        'PATH                         STATUS     FROM',
        'config.env.FEATURE_CHECKOUT  drift      v2',
        'os.kernel                    justified  6.1',
        '',
      ].join('\n'),
    );
    for (const line of text.split('\n')) expect(line).not.toMatch(/\s$/);
  });

  it('right-aligns numeric columns when asked', () => {
    const text = formatTable(
      ['NAME', 'HOSTS'],
      [
        ['staging', '3'],
        ['production', '12'],
      ],
      { style: plain, align: ['left', 'right'] },
    );
    expect(text.split('\n')).toEqual(['NAME        HOSTS', 'staging         3', 'production     12', '']);
  });

  it('measures colored cells by their visible width and keeps colors only when enabled', () => {
    const rows = [
      ['a', colored.status('drift'), 'x'],
      ['bb', colored.status('justified'), 'y'],
    ];
    const text = formatTable(['K', 'STATUS', 'V'], rows, { style: colored });
    expect(text).toContain(`${ANSI.red}drift${ANSI.reset}`);
    expect(text).toContain(`${ANSI.bold}K${ANSI.reset}`);
    const lines = stripAnsi(text).split('\n');
    expect(lines[1]).toBe('a   drift      x');
    expect(lines[2]).toBe('bb  justified  y');

    const uncolored = formatTable(['K', 'STATUS', 'V'], [['a', plain.status('drift'), 'x']], { style: plain });
    expect(uncolored).not.toContain('\u001b[');
  });

  it('cuts cells past the maximum width and folds newlines', () => {
    const text = formatTable(['V'], [['x'.repeat(100)], ['a\nb']], { style: plain, maxCellWidth: 10 });
    expect(text.split('\n')[1]).toBe(`${'x'.repeat(9)}…`);
    expect(text.split('\n')[2]).toBe('a b');
    expect(visibleWidth(`${ANSI.red}drift${ANSI.reset}`)).toBe(5);
  });
});

describe('colorAllowed', () => {
  it('colors on a TTY without NO_COLOR only', () => {
    expect(colorAllowed({ isTTY: true, env: {} })).toBe(true);
    expect(colorAllowed({ isTTY: false, env: {} })).toBe(false);
    expect(colorAllowed({ isTTY: true, env: { NO_COLOR: '1' } })).toBe(false);
    // An empty NO_COLOR does not count (no-color.org).
    expect(colorAllowed({ isTTY: true, env: { NO_COLOR: '' } })).toBe(true);
  });

  it('--color and --no-color win over the TTY and NO_COLOR', () => {
    expect(colorAllowed({ isTTY: false, env: {}, flag: true })).toBe(true);
    expect(colorAllowed({ isTTY: true, env: {}, flag: false })).toBe(false);
    expect(colorAllowed({ isTTY: false, env: { NO_COLOR: '1' }, flag: true })).toBe(true);
  });

  it('status words have tones; unknown words stay plain', () => {
    expect(colored.status('drift')).toBe(`${ANSI.red}drift${ANSI.reset}`);
    expect(colored.status('justified')).toBe(`${ANSI.cyan}justified${ANSI.reset}`);
    expect(colored.status('something')).toBe('something');
    expect(plain.status('drift')).toBe('drift');
  });
});
