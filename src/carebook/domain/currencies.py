"""The ISO 4217 currency table: active alphabetic codes and their minor-unit exponents.

Source: ISO 4217 "List One" (current currency and funds codes), as maintained by the
ISO 4217 maintenance agency (SIX). The exponent is the number of decimal places between
the major unit and the minor unit in which carebook stores amounts: USD 2 (cents),
JPY 0, KWD 3 (fils), CLF 4.

Deliberately absent:
- codes whose minor unit ISO gives as "N.A." (precious metals XAU/XAG/XPT/XPD, the SDR XDR,
  the bond-market units XBA-XBD, XSU, XUA, the testing code XTS and "no currency" XXX);
- withdrawn codes (for example HRK, SLL, ZWL, ANG and BGN, replaced by EUR, SLE, ZWG,
  XCG and EUR).

Update this table when ISO publishes an amendment; nothing else needs to change.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MINOR_UNITS"]

MINOR_UNITS: Final[dict[str, int]] = {
    "AED": 2,  # UAE dirham
    "AFN": 2,  # Afghan afghani
    "ALL": 2,  # Albanian lek
    "AMD": 2,  # Armenian dram
    "AOA": 2,  # Angolan kwanza
    "ARS": 2,  # Argentine peso
    "AUD": 2,  # Australian dollar
    "AWG": 2,  # Aruban florin
    "AZN": 2,  # Azerbaijani manat
    "BAM": 2,  # Bosnia and Herzegovina convertible mark
    "BBD": 2,  # Barbados dollar
    "BDT": 2,  # Bangladeshi taka
    "BHD": 3,  # Bahraini dinar
    "BIF": 0,  # Burundian franc
    "BMD": 2,  # Bermudian dollar
    "BND": 2,  # Brunei dollar
    "BOB": 2,  # Boliviano
    "BOV": 2,  # Bolivian Mvdol (funds code)
    "BRL": 2,  # Brazilian real
    "BSD": 2,  # Bahamian dollar
    "BTN": 2,  # Bhutanese ngultrum
    "BWP": 2,  # Botswana pula
    "BYN": 2,  # Belarusian ruble
    "BZD": 2,  # Belize dollar
    "CAD": 2,  # Canadian dollar
    "CDF": 2,  # Congolese franc
    "CHE": 2,  # WIR euro (complementary currency)
    "CHF": 2,  # Swiss franc
    "CHW": 2,  # WIR franc (complementary currency)
    "CLF": 4,  # Unidad de Fomento (funds code)
    "CLP": 0,  # Chilean peso
    "CNY": 2,  # Renminbi
    "COP": 2,  # Colombian peso
    "COU": 2,  # Unidad de Valor Real (funds code)
    "CRC": 2,  # Costa Rican colon
    "CUC": 2,  # Cuban convertible peso
    "CUP": 2,  # Cuban peso
    "CVE": 2,  # Cape Verdean escudo
    "CZK": 2,  # Czech koruna
    "DJF": 0,  # Djiboutian franc
    "DKK": 2,  # Danish krone
    "DOP": 2,  # Dominican peso
    "DZD": 2,  # Algerian dinar
    "EGP": 2,  # Egyptian pound
    "ERN": 2,  # Eritrean nakfa
    "ETB": 2,  # Ethiopian birr
    "EUR": 2,  # Euro
    "FJD": 2,  # Fiji dollar
    "FKP": 2,  # Falkland Islands pound
    "GBP": 2,  # Pound sterling
    "GEL": 2,  # Georgian lari
    "GHS": 2,  # Ghanaian cedi
    "GIP": 2,  # Gibraltar pound
    "GMD": 2,  # Gambian dalasi
    "GNF": 0,  # Guinean franc
    "GTQ": 2,  # Guatemalan quetzal
    "GYD": 2,  # Guyanese dollar
    "HKD": 2,  # Hong Kong dollar
    "HNL": 2,  # Honduran lempira
    "HTG": 2,  # Haitian gourde
    "HUF": 2,  # Hungarian forint
    "IDR": 2,  # Indonesian rupiah
    "ILS": 2,  # Israeli new shekel
    "INR": 2,  # Indian rupee
    "IQD": 3,  # Iraqi dinar
    "IRR": 2,  # Iranian rial
    "ISK": 0,  # Icelandic krona
    "JMD": 2,  # Jamaican dollar
    "JOD": 3,  # Jordanian dinar
    "JPY": 0,  # Japanese yen
    "KES": 2,  # Kenyan shilling
    "KGS": 2,  # Kyrgyzstani som
    "KHR": 2,  # Cambodian riel
    "KMF": 0,  # Comoro franc
    "KPW": 2,  # North Korean won
    "KRW": 0,  # South Korean won
    "KWD": 3,  # Kuwaiti dinar
    "KYD": 2,  # Cayman Islands dollar
    "KZT": 2,  # Kazakhstani tenge
    "LAK": 2,  # Lao kip
    "LBP": 2,  # Lebanese pound
    "LKR": 2,  # Sri Lankan rupee
    "LRD": 2,  # Liberian dollar
    "LSL": 2,  # Lesotho loti
    "LYD": 3,  # Libyan dinar
    "MAD": 2,  # Moroccan dirham
    "MDL": 2,  # Moldovan leu
    "MGA": 2,  # Malagasy ariary (ISO lists 2)
    "MKD": 2,  # Macedonian denar
    "MMK": 2,  # Myanmar kyat
    "MNT": 2,  # Mongolian togrog
    "MOP": 2,  # Macanese pataca
    "MRU": 2,  # Mauritanian ouguiya (ISO lists 2)
    "MUR": 2,  # Mauritian rupee
    "MVR": 2,  # Maldivian rufiyaa
    "MWK": 2,  # Malawian kwacha
    "MXN": 2,  # Mexican peso
    "MXV": 2,  # Mexican Unidad de Inversion (funds code)
    "MYR": 2,  # Malaysian ringgit
    "MZN": 2,  # Mozambican metical
    "NAD": 2,  # Namibian dollar
    "NGN": 2,  # Nigerian naira
    "NIO": 2,  # Nicaraguan cordoba
    "NOK": 2,  # Norwegian krone
    "NPR": 2,  # Nepalese rupee
    "NZD": 2,  # New Zealand dollar
    "OMR": 3,  # Omani rial
    "PAB": 2,  # Panamanian balboa
    "PEN": 2,  # Peruvian sol
    "PGK": 2,  # Papua New Guinean kina
    "PHP": 2,  # Philippine peso
    "PKR": 2,  # Pakistani rupee
    "PLN": 2,  # Polish zloty
    "PYG": 0,  # Paraguayan guarani
    "QAR": 2,  # Qatari riyal
    "RON": 2,  # Romanian leu
    "RSD": 2,  # Serbian dinar
    "RUB": 2,  # Russian ruble
    "RWF": 0,  # Rwandan franc
    "SAR": 2,  # Saudi riyal
    "SBD": 2,  # Solomon Islands dollar
    "SCR": 2,  # Seychelles rupee
    "SDG": 2,  # Sudanese pound
    "SEK": 2,  # Swedish krona
    "SGD": 2,  # Singapore dollar
    "SHP": 2,  # Saint Helena pound
    "SLE": 2,  # Sierra Leonean leone
    "SOS": 2,  # Somali shilling
    "SRD": 2,  # Surinamese dollar
    "SSP": 2,  # South Sudanese pound
    "STN": 2,  # Sao Tome and Principe dobra
    "SVC": 2,  # Salvadoran colon
    "SYP": 2,  # Syrian pound
    "SZL": 2,  # Swazi lilangeni
    "THB": 2,  # Thai baht
    "TJS": 2,  # Tajikistani somoni
    "TMT": 2,  # Turkmenistan manat
    "TND": 3,  # Tunisian dinar
    "TOP": 2,  # Tongan pa'anga
    "TRY": 2,  # Turkish lira
    "TTD": 2,  # Trinidad and Tobago dollar
    "TWD": 2,  # New Taiwan dollar
    "TZS": 2,  # Tanzanian shilling
    "UAH": 2,  # Ukrainian hryvnia
    "UGX": 0,  # Ugandan shilling
    "USD": 2,  # United States dollar
    "USN": 2,  # United States dollar, next day (funds code)
    "UYI": 0,  # Uruguay peso en unidades indexadas (funds code)
    "UYU": 2,  # Uruguayan peso
    "UYW": 4,  # Unidad previsional (Uruguay)
    "UZS": 2,  # Uzbekistani sum
    "VED": 2,  # Venezuelan digital bolivar
    "VES": 2,  # Venezuelan sovereign bolivar
    "VND": 0,  # Vietnamese dong
    "VUV": 0,  # Vanuatu vatu
    "WST": 2,  # Samoan tala
    "XAF": 0,  # CFA franc BEAC
    "XCD": 2,  # East Caribbean dollar
    "XCG": 2,  # Caribbean guilder (Curacao and Sint Maarten)
    "XOF": 0,  # CFA franc BCEAO
    "XPF": 0,  # CFP franc
    "YER": 2,  # Yemeni rial
    "ZAR": 2,  # South African rand
    "ZMW": 2,  # Zambian kwacha
    "ZWG": 2,  # Zimbabwe Gold
}
