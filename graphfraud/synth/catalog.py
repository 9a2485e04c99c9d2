"""Fixed reference data of the synthetic city: names, places, diagnoses, drugs and services.

Everything here is constant: the catalogue does not depend on the seed, so two data sets
made with different seeds share drug codes, item codes and diagnosis codes, as two exports
of one real fund would. The city, 江州市 (administrative code ``331200``), is fictional: the
code block 3312xx is unused by the real Zhejiang province.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CITY_NAME = "江州市"
CITY_CODE = "331200"

#: (code, name, urban) of the districts and counties
DISTRICTS: tuple[tuple[str, str, bool], ...] = (
    ("331202", "江城区", True), ("331203", "临湖区", True), ("331204", "北山区", True),
    ("331211", "新港区", True), ("331221", "青溪县", False), ("331222", "安平县", False),
    ("331223", "石门县", False), ("331224", "云岭县", False), ("331281", "江口市", False),
    ("331282", "长乐市", False),
)

#: birth regions of persons born outside the city (id numbers start with them)
OTHER_REGIONS = ("110105", "320102", "330106", "340104", "360102", "410105", "420106",
                 "430104", "510107", "350203", "370102", "450103")

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
            "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
            "毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁建国志文俊浩宇轩子晨博海林东峰成兵德福荣春忠"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲桂英秀兰萍红梅琳婷雪慧佳欣怡颖倩琴云莉淑珍凤洁玉华春小"

SYL1 = "石白双枫长黄大新太永龙马桃青清柳杨东西南北五三九凤高横梅竹花金银红安和平兴富丰乐"
SYL2 = "桥沙溪林岭泥塘平安泉鞍源山水河岗湖湾里江田坪口坝埠庄店铺园垄洲滩港峰冲坑门头"
ROADS = ("解放路", "人民路", "中山路", "建设路", "文化路", "胜利路", "和平路", "新华路", "朝阳路",
         "光明路", "江滨路", "湖滨路", "北山路", "长江路", "学府路", "健康路", "春晖路", "望江路")
ESTATES = ("阳光花园", "金色家园", "江南小区", "锦绣苑", "滨江花园", "翠苑", "和园", "世纪新城",
           "东方名苑", "枫林湾", "香樟苑", "丽景湾", "碧水苑", "书香门第")
BRANDS = ("仁爱", "博爱", "康华", "协和", "华康", "长安", "同济", "新华", "永康", "惠民", "安康", "济民",
          "慈济", "和美", "康宁", "瑞康", "福康", "天和", "仁和", "泰康", "益寿", "百草", "春晖", "德济")
CHAINS = ("江州康济大药房连锁有限公司", "江州百姓缘大药房连锁有限公司", "江州仁和堂大药房连锁有限公司",
          "江州华东大药房连锁有限公司", "江州益丰源大药房连锁有限公司")
L3_NAMES = ("江州市第一人民医院", "江州医科大学附属第一医院", "江州市中心医院", "江州市中医院",
            "江州市第二人民医院", "江州医科大学附属第二医院", "江州市第三人民医院", "江州市肿瘤医院")
DEPTS_L3 = ("肿瘤科", "肾内科", "心血管内科", "呼吸内科", "消化内科", "内分泌科", "神经内科", "普外科",
            "骨科", "泌尿外科", "妇产科", "儿科", "眼科", "口腔科", "皮肤科", "急诊科", "中医科",
            "全科医学科")
DEPTS_L2 = ("内科", "外科", "妇产科", "儿科", "中医科", "急诊科", "肾内科", "骨科")
DEPTS_L1 = ("全科", "内科", "中医科")
DEPTS_CLINIC = ("全科",)

VISIT_TYPES = ("outpatient", "inpatient", "pharmacy")
VISIT_TYPES_ZH = ("门诊", "住院", "药店购药")
PROVIDER_TYPES = ("hospital", "clinic", "pharmacy")

# --- diagnoses ------------------------------------------------------------------------
# code | name | group | outpatient weight child,adult,elder | inpatient weight c,a,e |
# chronic weight c,a,e | median length of stay | surgery service (or -)
_DIAG = """
J06.900|急性上呼吸道感染|resp|30,12,6|0,0,0|0,0,0|0|-
J20.900|急性支气管炎|resp|10,5,5|15,2,3|0,0,0|5|-
J02.900|急性咽炎|resp|8,6,3|0,0,0|0,0,0|0|-
J18.900|肺炎|resp|3,1,3|30,5,15|0,0,0|7|-
J44.900|慢性阻塞性肺疾病|resp|0,0,1|0,0,0|0,1,8|0|-
J44.100|慢性阻塞性肺病伴有急性加重|resp|0,0,0|0,1,12|0,0,0|9|-
J45.900|哮喘|resp|1,1,1|2,1,1|12,3,2|5|-
R50.900|发热|general|8,2,1|0,0,0|0,0,0|0|-
K29.700|胃炎|digest|1,8,6|1,3,3|0,0,0|5|-
K30.x00|功能性消化不良|digest|1,4,3|0,0,0|0,0,0|0|-
A09.900|感染性腹泻|digest|6,3,2|8,1,1|0,0,0|4|-
K35.800|急性阑尾炎|digest|0,0,0|5,5,1|0,0,0|5|阑尾切除术
K80.200|胆囊结石|digest|0,1,1|0,4,3|0,0,0|6|腹腔镜胆囊切除术
M54.500|腰痛|msk|0,6,6|0,0,0|0,0,0|0|-
M47.800|颈椎病|msk|0,4,5|0,2,2|0,2,3|9|-
M17.900|膝关节病|msk|0,2,6|0,1,2|0,0,0|10|-
M51.202|腰椎间盘突出|msk|0,2,2|0,5,4|0,0,0|10|-
M81.000|骨质疏松|msk|0,0,1|0,0,0|0,1,5|0|-
L30.900|皮炎|derm|4,4,2|0,0,0|0,0,0|0|-
L50.900|荨麻疹|derm|2,2,1|0,0,0|0,0,0|0|-
H10.900|结膜炎|eye|3,2,1|0,0,0|0,0,0|0|-
H52.100|近视|eye|3,1,0|0,0,0|0,0,0|0|-
K02.900|龋病|dental|4,2,1|0,0,0|0,0,0|0|-
K05.100|慢性牙龈炎|dental|1,2,2|0,0,0|0,0,0|0|-
N39.000|泌尿道感染|uro|1,3,3|2,2,3|0,0,0|6|-
N40.x00|前列腺增生|uro|0,0,1|0,0,1|0,0,4|8|-
R51.x00|头痛|neuro|1,3,2|0,0,0|0,0,0|0|-
G47.000|失眠|neuro|0,2,3|0,0,0|0,1,2|0|-
F32.900|抑郁发作|neuro|0,1,1|0,0,0|0,1,1|0|-
S93.400|踝关节扭伤|injury|2,2,1|0,0,0|0,0,0|0|清创缝合术
T14.000|浅表损伤|injury|3,2,1|0,0,0|0,0,0|0|清创缝合术
S72.000|股骨颈骨折|injury|0,0,0|0,1,4|0,0,0|14|人工股骨头置换术
S82.800|小腿骨折|injury|0,0,0|2,2,1|0,0,0|10|-
Z00.000|健康查体|exam|2,2,1|0,0,0|0,0,0|0|-
I10.x00|原发性高血压|cardio|0,3,4|0,2,5|0,10,40|7|-
I25.100|动脉粥样硬化性心脏病|cardio|0,1,2|0,3,10|0,1,10|7|经皮冠状动脉支架置入术
I50.900|心力衰竭|cardio|0,0,1|0,1,7|0,0,2|9|-
E11.900|2型糖尿病|diab|0,2,3|0,2,5|0,5,18|8|-
E78.500|高脂血症|lipid|0,2,2|0,0,0|0,4,7|0|-
I63.900|脑梗死|cerebro|0,0,1|0,3,14|0,0,0|11|-
I69.300|脑梗死后遗症|cerebro|0,0,2|0,0,2|0,0,5|12|-
B18.100|慢性乙型病毒性肝炎|hep|0,1,1|0,1,1|0,2,2|10|-
N18.900|慢性肾脏病|kidney|0,0,1|0,0,1|0,1,2|9|-
N18.500|慢性肾脏病5期|dialysis|0,0,0|0,0,0|0,0,0|0|-
Z49.100|体外透析|dialysis|0,0,0|0,0,0|0,0,0|0|-
O80.000|单胎顺产|obst|0,0,0|0,6,0|0,0,0|3|-
C34.900|肺恶性肿瘤|onc|0,0,0|0,1,2|0,0.2,1|12|-
C16.900|胃恶性肿瘤|onc|0,0,0|0,0,1|0,0.1,0.6|12|-
C50.900|乳房恶性肿瘤|onc|0,0,0|0,0,0|0,0.3,0.4|10|-
C18.900|结肠恶性肿瘤|onc|0,0,0|0,0,1|0,0.1,0.5|12|-
C22.000|肝细胞癌|onc|0,0,0|0,0,1|0,0.1,0.3|12|-
Z51.100|恶性肿瘤化学治疗|chemo|0,0,0|0,0,0|0,0,0|3|-
Z51.000|恶性肿瘤放射治疗|chemo|0,0,0|0,0,0|0,0,0|5|-
"""

# --- drugs ----------------------------------------------------------------------------
# name | ATC level 4 (X) or TCM class (Z) | form | price per pack (yuan) | groups | flags
# flags: T traceable (dispensed packs carry a 追溯码), H high value
_DRUGS = """
阿莫西林胶囊|XJ01CA|胶囊|9.80|resp dental uro|T
头孢克肟分散片|XJ01DD|分散片|26.50|resp uro|T
阿奇霉素片|XJ01FA|片|16.80|resp|
盐酸氨溴索片|XR05CB|片|8.50|resp|
复方甘草片|XR05CA|片|6.20|resp otc|
连花清瘟胶囊|ZA01AA|胶囊|14.80|resp otc|T
蓝芩口服液|ZA01BA|口服液|26.00|resp|
布地奈德福莫特罗吸入粉雾剂|XR03AK|吸入|238.00|resp|TH
噻托溴铵吸入粉雾剂|XR03BB|吸入|118.00|resp|TH
孟鲁司特钠片|XR03DC|片|38.00|resp|
布洛芬混悬液|XM01AE|口服液|18.50|resp otc|
苯磺酸氨氯地平片|XC08CA|片|4.60|cardio|T
硝苯地平控释片|XC08CA|缓释片|32.40|cardio|T
缬沙坦胶囊|XC09CA|胶囊|21.60|cardio|T
厄贝沙坦氢氯噻嗪片|XC09DA|片|26.80|cardio|T
酒石酸美托洛尔片|XC07AB|片|6.80|cardio|
阿司匹林肠溶片|XB01AC|肠溶片|14.90|cardio cerebro|
硫酸氢氯吡格雷片|XB01AC|片|28.30|cardio cerebro|TH
替格瑞洛片|XB01AC|片|86.00|cardio|TH
沙库巴曲缬沙坦钠片|XC09DX|片|186.00|cardio|TH
利伐沙班片|XB01AF|片|118.00|cardio cerebro|TH
复方丹参滴丸|ZA06AA|丸|28.50|cardio cerebro|
麝香保心丸|ZA06BA|丸|46.00|cardio|
阿托伐他汀钙片|XC10AA|片|9.60|lipid cardio cerebro|T
瑞舒伐他汀钙片|XC10AA|片|12.40|lipid cardio|T
依折麦布片|XC10AX|片|48.00|lipid|
盐酸二甲双胍片|XA10BA|片|8.90|diab|T
格列美脲片|XA10BB|片|17.60|diab|
阿卡波糖片|XA10BF|片|24.80|diab|T
达格列净片|XA10BK|片|96.00|diab cardio|TH
磷酸西格列汀片|XA10BH|片|74.00|diab|TH
门冬胰岛素注射液|XA10AB|注射液|68.50|diab|TH
甘精胰岛素注射液|XA10AE|注射液|158.00|diab|TH
丁苯酞软胶囊|XN07XX|软胶囊|258.00|cerebro|TH
银杏叶片|ZA06CA|片|29.80|cerebro neuro|
甲钴胺片|XB03BA|片|21.50|neuro cerebro msk|
艾司唑仑片|XN05CD|片|5.80|neuro|
盐酸舍曲林片|XN06AB|片|62.00|neuro|T
谷维素片|XA11HA|片|3.50|neuro otc|
奥美拉唑肠溶胶囊|XA02BC|胶囊|11.80|digest|T
雷贝拉唑钠肠溶片|XA02BC|肠溶片|27.60|digest|T
铝碳酸镁咀嚼片|XA02AD|咀嚼片|18.20|digest otc|
枸橼酸莫沙必利片|XA03FA|片|21.90|digest|
蒙脱石散|XA07BC|散|11.50|digest otc|
双歧杆菌三联活菌胶囊|XA07FA|胶囊|32.00|digest|
塞来昔布胶囊|XM01AH|胶囊|38.50|msk|T
洛索洛芬钠片|XM01AE|片|17.80|msk otc|
双氯芬酸钠缓释片|XM01AB|缓释片|14.60|msk|
盐酸氨基葡萄糖胶囊|XM01AX|胶囊|66.00|msk|
仙灵骨葆胶囊|ZA05AA|胶囊|41.50|msk|
骨化三醇软胶囊|XA11CC|软胶囊|36.00|msk kidney|
阿仑膦酸钠片|XM05BA|片|45.00|msk|T
恩替卡韦分散片|XJ05AF|分散片|18.40|hep|T
富马酸丙酚替诺福韦片|XJ05AF|片|85.00|hep|TH
水飞蓟宾胶囊|XA05BA|胶囊|45.00|hep|
盐酸坦索罗辛缓释胶囊|XG04CA|胶囊|56.00|uro|T
非那雄胺片|XG04CB|片|44.00|uro|T
左氧氟沙星片|XJ01MA|片|15.60|uro resp|
重组人促红素注射液|XB03XA|注射液|178.00|kidney dialysis|TH
碳酸司维拉姆片|XV03AE|片|256.00|kidney dialysis|TH
复方α-酮酸片|XV06DD|片|98.00|kidney|T
糠酸莫米松乳膏|XD07AC|乳膏|27.50|derm|
盐酸西替利嗪片|XR06AE|片|16.00|derm otc|
夫西地酸乳膏|XD06AX|乳膏|22.00|derm|
玻璃酸钠滴眼液|XS01XA|滴眼液|38.00|eye|
左氧氟沙星滴眼液|XS01AE|滴眼液|18.80|eye|
甲硝唑片|XP01AB|片|4.20|dental digest|
维生素C片|XA11GA|片|4.50|otc|
复合维生素B片|XA11EA|片|5.60|otc|
感冒灵颗粒|ZA01AB|颗粒|13.80|otc resp|
板蓝根颗粒|ZA01AC|颗粒|11.50|otc resp|
六味地黄丸|ZA12AA|丸|21.60|otc|
葡萄糖酸钙口服溶液|XA12AA|口服液|19.80|otc|
藿香正气水|ZA02AA|口服液|12.00|otc digest|
甲磺酸奥希替尼片|XL01EB|片|4830.00|onc_t|TH
吉非替尼片|XL01EB|片|547.00|onc_t|TH
盐酸安罗替尼胶囊|XL01EX|胶囊|2976.00|onc_t|TH
甲磺酸阿帕替尼片|XL01EX|片|1960.00|onc_t|TH
来曲唑片|XL02BG|片|68.00|onc_t onc|T
醋酸阿比特龙片|XL02BX|片|1260.00|onc_t|TH
卡培他滨片|XL01BC|片|186.00|onc onc_t|TH
注射用奥沙利铂|XL01XA|注射用|318.00|chemo|TH
注射用紫杉醇(白蛋白结合型)|XL01CD|注射用|1180.00|chemo|TH
注射用顺铂|XL01XA|注射用|42.00|chemo|
盐酸昂丹司琼注射液|XA04AA|注射液|28.00|chemo|
氯化钠注射液|XB05XA|注射液|4.50|inj|
葡萄糖注射液|XB05BA|注射液|4.20|inj|
注射用头孢曲松钠|XJ01DD|注射用|8.60|inj resp uro|
注射用兰索拉唑|XA02BC|注射用|21.80|inj digest|
依诺肝素钠注射液|XB01AB|注射液|34.00|inj cardio|
人血白蛋白|XB05AA|注射液|380.00|inj|TH
注射用血栓通|ZA06DA|注射用|24.80|inj cerebro|
"""

FORM_CODES = {"片": "A001", "肠溶片": "A005", "缓释片": "A004", "分散片": "A008", "咀嚼片": "A009",
              "胶囊": "A023", "软胶囊": "A026", "颗粒": "A050", "丸": "A057", "口服液": "A062",
              "散": "A069", "注射液": "B002", "注射用": "B007", "乳膏": "C012", "滴眼液": "C031",
              "吸入": "D075"}

# --- services: name | 9-digit base code | price (yuan) | kind --------------------------
_SERVICES = """
普通门诊诊查费|110200001|10.00|exam_out
住院诊查费|110200005|20.00|exam_in
普通病房床位费|110900001|40.00|bed
二级护理|120100003|18.00|nurse
血常规检查|250101015|20.00|test
尿常规检查|250102001|10.00|test
大便常规检查|250103001|6.00|test
肝功能检查|250305001|60.00|test
肾功能检查|250307001|45.00|test
血糖测定|250302001|8.00|test
血脂测定|250303001|40.00|test
糖化血红蛋白测定|250302004|55.00|test
C反应蛋白测定|250403012|30.00|test
心电图检查|310701001|25.00|test
胸部X线摄影|210102001|60.00|test
腹部彩色超声|220301001|120.00|test
CT平扫|210300001|280.00|test_big
磁共振平扫|210400001|650.00|test_big
心脏彩色超声|220600001|200.00|test_big
静脉输液|121400002|8.00|infusion
阑尾切除术|331003001|1200.00|surgery
腹腔镜胆囊切除术|331005002|2800.00|surgery
人工股骨头置换术|331503001|6500.00|surgery
经皮冠状动脉支架置入术|310803001|8600.00|surgery
清创缝合术|121600001|120.00|surgery
血液透析|311000006|420.00|special
调强放射治疗|240300004|950.00|special
"""


@dataclass(frozen=True)
class Catalog:
    """The item catalogue (drugs first, then services) and the diagnosis table, as arrays."""

    diag_code: tuple[str, ...]
    diag_name: tuple[str, ...]
    diag_group: np.ndarray  # int index into groups
    w_out: np.ndarray  # (n_diag, 3) outpatient weights by age band (child, adult, elder)
    w_in: np.ndarray
    w_chronic: np.ndarray
    los: np.ndarray  # median length of stay
    surgery: np.ndarray  # item index of the surgery, -1 none
    groups: tuple[str, ...]
    item_code: tuple[str, ...]
    item_name: tuple[str, ...]
    item_price: np.ndarray  # cents
    item_is_drug: np.ndarray
    item_trace: np.ndarray  # traceable drug
    item_high: np.ndarray
    item_prefix: np.ndarray  # 7-digit product code of traceable drugs (int)
    item_kind: tuple[str, ...]  # services: kind; drugs: "drug"
    drug_groups: tuple[frozenset[str], ...]

    def diag(self, code: str) -> int:
        """Index of a diagnosis code."""
        return self.diag_code.index(code)

    def item(self, name: str) -> int:
        """Index of an item by name."""
        return self.item_name.index(name)

    def drugs_in(self, group: str) -> np.ndarray:
        """Item indexes of the drugs of a pool group."""
        return np.array([i for i, g in enumerate(self.drug_groups) if group in g], dtype=np.int32)

    def services(self, kind: str) -> np.ndarray:
        """Item indexes of the services of one kind."""
        return np.array([i for i, k in enumerate(self.item_kind) if k == kind], dtype=np.int32)


def _rows(text: str) -> list[list[str]]:
    return [line.split("|") for line in text.strip().splitlines()]


def _weights(s: str) -> list[float]:
    return [float(x) for x in s.split(",")]


def build_catalog() -> Catalog:
    """Parse the tables above into a :class:`Catalog` (constant, independent of the seed)."""
    fixed = np.random.default_rng(20240101)  # fixed: the catalogue never depends on the seed
    drugs = _rows(_DRUGS)
    services = _rows(_SERVICES)
    codes, names, prices, is_drug, trace, high, prefix, kinds, dgroups = ([] for _ in range(9))
    generic_seq: dict[str, int] = {}
    for name, klass, form, price, grp, flags in drugs:
        generic_seq[klass] = generic_seq.get(klass, 0) + 1
        tail = "".join(str(d) for d in fixed.integers(0, 10, 9))
        code = f"{klass}{FORM_CODES[form]}A{generic_seq[klass]:03d}{tail}"
        assert len(code) == 23, code
        codes.append(code)
        names.append(name)
        prices.append(round(float(price) * 100))
        is_drug.append(True)
        trace.append("T" in flags)
        high.append("H" in flags)
        prefix.append(8000000 + int(fixed.integers(0, 1000000)))
        kinds.append("drug")
        dgroups.append(frozenset(grp.split()))
    for name, base, price, kind in services:
        codes.append(f"00{base}0000")
        names.append(name)
        prices.append(round(float(price) * 100))
        is_drug.append(False)
        trace.append(False)
        high.append(False)
        prefix.append(0)
        kinds.append(kind)
        dgroups.append(frozenset())
    diags = _rows(_DIAG)
    groups = tuple(sorted({d[2] for d in diags} | {"otc", "inj", "onc_t"}))
    surgery = [names.index(d[7]) if d[7] != "-" else -1 for d in diags]
    return Catalog(
        diag_code=tuple(d[0] for d in diags),
        diag_name=tuple(d[1] for d in diags),
        diag_group=np.array([groups.index(d[2]) for d in diags], dtype=np.int16),
        w_out=np.array([_weights(d[3]) for d in diags]),
        w_in=np.array([_weights(d[4]) for d in diags]),
        w_chronic=np.array([_weights(d[5]) for d in diags]),
        los=np.array([int(d[6]) for d in diags], dtype=np.int32),
        surgery=np.array(surgery, dtype=np.int32),
        groups=groups,
        item_code=tuple(codes),
        item_name=tuple(names),
        item_price=np.array(prices, dtype=np.int64),
        item_is_drug=np.array(is_drug),
        item_trace=np.array(trace),
        item_high=np.array(high),
        item_prefix=np.array(prefix, dtype=np.int64),
        item_kind=tuple(kinds),
        drug_groups=tuple(dgroups),
    )


CATALOG = build_catalog()
