// Package translit spells letters the way people type them on a Latin
// keyboard. The conversation engine and the safety detector share it, so that
// a keyword and a danger word written in Cyrillic both match their Latin
// spelling.
package translit

// Latin returns the Latin spelling of a lower-case letter that has one here:
// Cyrillic (Russian, Ukrainian, Bulgarian, Serbian) and a few Latin letters
// that do not decompose into a base letter and a mark. The soft and hard
// signs spell as "". ok is false for every other letter.
func Latin(r rune) (spelling string, ok bool) {
	spelling, ok = latin[r]
	return spelling, ok
}

var latin = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e",
	'ж': "zh", 'з': "z", 'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m",
	'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u",
	'ф': "f", 'х': "h", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "sch", 'ъ': "",
	'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya",
	'і': "i", 'ї': "i", 'є': "e", 'ґ': "g",
	'ђ': "dj", 'ј': "j", 'љ': "lj", 'њ': "nj", 'ћ': "c", 'џ': "dz", 'ѓ': "g", 'ќ': "k", 'ѕ': "dz",
	'đ': "dj", 'ß': "ss", 'ø': "o", 'æ': "ae", 'ł': "l", 'œ': "oe", 'ı': "i",
}
