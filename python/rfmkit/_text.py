"""The words rfmkit shows people, in English and Chinese: headings, column labels, axis
titles and notes of the plots and of the HTML report. One table, so that a word has one
translation wherever it appears."""

from __future__ import annotations

from typing import Any

#: The purchase models' names (the same in both languages).
CLV_MODEL_NAMES = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "pareto": "Pareto/NBD"}

#: key -> (English, Chinese). Keys with ``{}`` fields are formatted by `text`.
TEXT: dict[str, tuple[str, str]] = {
    # columns of the customer table and of the summaries
    "customer": ("Customer", "客户"),
    "customers": ("Customers", "客户数"),
    "customer_share": ("Share of customers", "客户占比"),
    "revenue": ("Revenue", "销售额"),
    "revenue_share": ("Share of revenue", "销售额占比"),
    "recency": ("Recency (days)", "最近一次购买距今（天）"),
    "frequency": ("Purchases", "购买次数"),
    "monetary": ("Spend", "消费金额"),
    "avg_order_value": ("Average order value", "客单价"),
    "recency_mean": ("Mean recency (days)", "平均距今天数"),
    "frequency_mean": ("Mean purchases", "平均购买次数"),
    "monetary_mean": ("Mean spend", "平均消费金额"),
    "recency_median": ("Median recency (days)", "距今天数中位数"),
    "frequency_median": ("Median purchases", "购买次数中位数"),
    "monetary_median": ("Median spend", "消费金额中位数"),
    "recency_vs_all": ("Recency vs all", "距今天数 / 总体"),
    "frequency_vs_all": ("Purchases vs all", "购买次数 / 总体"),
    "monetary_vs_all": ("Spend vs all", "消费金额 / 总体"),
    "first_purchase": ("First purchase", "首次购买"),
    "last_purchase": ("Last purchase", "最近购买"),
    "tenure": ("Tenure (days)", "客户时长（天）"),
    "r_score": ("R score", "R 评分"),
    "f_score": ("F score", "F 评分"),
    "m_score": ("M score", "M 评分"),
    "rfm_code": ("RFM code", "RFM 代码"),
    "rfm_score": ("RFM score", "RFM 总分"),
    "segment": ("Segment", "客户分群"),
    "tier": ("Value tier", "价值等级"),
    "quadrant": ("Value quadrant", "价值象限"),
    "cluster": ("Cluster", "聚类"),
    "cluster_name": ("Cluster name", "聚类名称"),
    "name": ("Name", "名称"),
    "segment_share": ("Share of its main segment", "主要分群占比"),
    "p_alive": ("P(alive)", "存活概率"),
    "expected_purchases": ("Expected purchases", "预期购买次数"),
    "p_purchase_30d": ("P(purchase in 30 days)", "30 天内购买概率"),
    "next_purchase_days": ("Median days to next purchase", "距下次购买天数（中位数）"),
    "clv": ("CLV", "客户终身价值"),
    "purchase_model": ("Purchase model", "购买模型"),
    "holdout_mae": ("Mean absolute error", "平均绝对误差"),
    "holdout_rmse": ("Root mean squared error", "均方根误差"),
    "predicted_purchases": ("Predicted purchases", "预测购买次数"),
    "actual_purchases": ("Actual purchases", "实际购买次数"),
    "action": ("Recommended action", "建议行动"),
    "rows": ("Rows", "行数"),
    # data quality
    "rows_in": ("Rows read", "读取行数"),
    "rows_used": ("Rows used", "使用行数"),
    "dropped": ("Dropped: {}", "剔除：{}"),
    "missing_customer": ("no customer id", "缺少客户编号"),
    "missing_date": ("no valid date", "缺少有效日期"),
    "missing_order": ("no order id", "缺少订单号"),
    "invalid_amount": ("amount not a number", "金额无效"),
    "zero_amount": ("zero amount", "金额为零"),
    "return_without_purchase": ("return without a purchase", "无对应购买的退货"),
    "return": ("returns (negative amounts)", "退货（负金额）"),
    "before_window": ("before the window", "早于统计窗口"),
    "after_as_of": ("on or after the observation date", "晚于或等于观察日"),
    "after_observation_end": ("after the end of observation", "晚于观察期末"),
    "net_negative": (
        "Customers with net-negative spend (clustered on the signed log)",
        "净消费为负的客户（按带符号对数聚类）",
    ),
    # plots
    "customers %": ("customers %", "客户占比 %"),
    "revenue %": ("revenue %", "销售额占比 %"),
    "share (%)": ("share (%)", "占比 (%)"),
    "segments title": ("Segments: share of customers and of revenue", "各分群的客户占比与销售额占比"),
    "frequency score": ("frequency score", "购买频次评分 F"),
    "recency score": ("recency score", "最近购买评分 R"),
    "mean": ("mean", "平均"),
    "median": ("median", "中位数"),
    "sum": ("sum", "合计"),
    "count": ("count", "计数"),
    "heatmap title": ("{} {} by recency × frequency score", "按 R × F 评分的{}{}"),
    "centres title": ("Cluster centres", "聚类中心"),
    "centres axis": ("centre (z-score across clusters)", "中心（各聚类间的 z 分数）"),
    "k axis": ("k (number of clusters)", "k（聚类数）"),
    "inertia axis": ("inertia (transformed space)", "簇内平方和（变换后空间）"),
    "inertia": ("inertia", "簇内平方和"),
    "silhouette": ("silhouette", "轮廓系数"),
    "suggested k": ("suggested k = {}", "建议 k = {}"),
    "choose k title": ("Choosing k", "选择聚类数 k"),
    "clv axis": ("customer lifetime value", "客户终身价值"),
    "clv cut": ("({:,} above {:,.0f}, the 99th percentile, not shown)", "（{:,} 位高于第 99 百分位 {:,.0f}，未显示）"),
    "clv title": ("CLV distribution", "客户终身价值分布"),
    "mean value": ("mean {:,.2f}", "均值 {:,.2f}"),
    "median value": ("median {:,.2f}", "中位数 {:,.2f}"),
    "share of the cluster": ("share of the cluster", "占该聚类的比例"),
    "share of the segment": ("share of the segment", "占该分群的比例"),
    "crosstab title": ("Segments × clusters", "分群 × 聚类"),
    "later segment": ("segment at the later date", "后一日期的分群"),
    "earlier segment": ("segment at the earlier date", "前一日期的分群"),
    "share of the earlier segment": ("share of the earlier segment", "占前一日期分群的比例"),
    "migration title": ("Segment migration", "分群迁移"),
    "customer's recency": ("customer's recency (age at the last purchase)", "客户最后一次购买时的客龄"),
    "customer's frequency": ("customer's frequency (repeat purchases)", "客户复购次数"),
    "frequency recency title": ("Expected purchases in the next {:g} time units", "未来 {:g} 个时间单位的预期购买次数"),
    "expected purchases": ("expected purchases", "预期购买次数"),
    "alive title": ("Probability that a customer is alive", "客户仍活跃的概率"),
    "observed": ("observed", "实际"),
    "model": ("model", "模型"),
    "period title": ("Customers by repeat purchases: observed and model", "按复购次数的客户数：实际与模型"),
    "repeat purchases": ("repeat purchases", "复购次数"),
    "calibration title": ("Holdout purchases by calibration purchases", "按校准期购买次数的验证期购买"),
    "calibration purchases": ("purchases in the calibration period", "校准期购买次数"),
    "holdout purchases": ("mean purchases in the holdout", "验证期平均购买次数"),
    "tracking title cumulative": ("Tracking cumulative repeat transactions", "累计复购交易：实际与模型"),
    "tracking title incremental": ("Tracking repeat transactions per period", "每期复购交易：实际与模型"),
    "tracking axis cumulative": ("cumulative repeat transactions", "累计复购交易次数"),
    "tracking axis incremental": ("repeat transactions in the period", "当期复购交易次数"),
    "tracking periods D": ("days since {}", "自 {} 起的天数"),
    "tracking periods W": ("weeks since {}", "自 {} 起的周数"),
    "tracking periods M": ("months since {}", "自 {} 起的月数"),
    "tracking periods Q": ("quarters since {}", "自 {} 起的季度数"),
    "tracking periods Y": ("years since {}", "自 {} 起的年数"),
    "calibration end": ("end of the calibration", "校准期结束"),
    "cohort title customers": ("Customers active by acquisition cohort", "各获客批次的活跃客户"),
    "cohort title shares": ("Share of each acquisition cohort active", "各获客批次的活跃客户占比"),
    "cohort title revenue": ("Revenue by acquisition cohort", "各获客批次的销售额"),
    "cohort axis": ("periods since the first purchase", "首次购买后的期数"),
    "cohort axis D": ("days since the first purchase", "首次购买后的天数"),
    "cohort axis M": ("months since the first purchase", "首次购买后的月数"),
    "cohort axis W": ("weeks since the first purchase", "首次购买后的周数"),
    "cohort axis Q": ("quarters since the first purchase", "首次购买后的季度数"),
    "cohort axis Y": ("years since the first purchase", "首次购买后的年数"),
    "cohort": ("cohort (first purchase)", "获客批次（首次购买）"),
    "share of the cohort": ("share of the cohort", "占该批次的比例"),
}


#: The sentences of the HTML report (rfmkit._report.page): key -> (English, Chinese), with
#: named fields formatted by `word`.
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Customer value report", "客户价值分析报告"),
    "subtitle": (
        "{customers:,} customers · observed up to {as_of} (exclusive) · made by rfmkit {version}",
        "{customers:,} 位客户 · 观察截止 {as_of}（不含当日）· rfmkit {version} 生成",
    ),
    "contents": ("Contents", "目录"),
    "headline": ("Headline figures", "核心指标"),
    "segments": ("Segments and what to do", "客户分群与建议行动"),
    "segments intro": (
        (
            "Customers grouped by the {scheme} rules on their R, F, M scores (1–{bins}, 5 best); "
            "each segment comes with a recommended action."
        ),
        "按 {scheme} 规则根据 R、F、M 评分（1–{bins}，5 为最好）对客户分群；每个分群附有建议行动。",
    ),
    "segments intro classic8": (
        (
            "Customers grouped by comparing their recency, purchases and spend with the {split} of all customers "
            "(R↑: last purchase less than {r:,.0f} days ago; F↑: more than {f:,.2f} purchases; M↑: spend above "
            "{m:,.2f}); each segment comes with a recommended action."
        ),
        (
            "将每位客户的最近购买距今天数、购买次数和消费金额与全体客户的{split}比较后分群（R↑：距今少于 {r:,.0f} 天；"
            "F↑：购买多于 {f:,.2f} 次；M↑：消费高于 {m:,.2f}）；每个分群附有建议行动。"
        ),
    ),
    "segments intro custom": (
        "Customers grouped by your own rules; each segment comes with the action you gave it.",
        "按您定义的规则对客户分群；每个分群附有您给出的行动。",
    ),
    "mean": ("mean", "均值"),
    "median": ("median", "中位数"),
    "more rows": ("{n:,} more rows in the files", "其余 {n:,} 行见导出文件"),
    "heatmap": ("Recency × frequency", "最近购买 × 购买频次"),
    "heatmap intro": (
        "Mean spend of the customers in each cell of recency score (rows) × frequency score (columns).",
        "按最近购买评分（行）× 购买频次评分（列）统计的每格客户平均消费金额。",
    ),
    "cohorts": ("Retention by acquisition cohort", "按获客批次的留存"),
    "cohorts intro": (
        (
            "Customers grouped by the {period} of their first purchase (rows); each cell is the share of the "
            "cohort that bought again {n} {period}s later (columns). Read down a column to see whether newer "
            "customers come back more or less than older ones."
        ),
        (
            "按首次购买所在的{period}把客户分批（行）；每格是该批客户在首次购买后第 n 个{period}（列）"
            "再次购买的比例。沿一列向下看，可比较新客户与老客户的回购情况。"
        ),
    ),
    "cohorts partial": (
        "The last {period} ends at the observation date and is not complete.",
        "最后一个{period}截至观察日，并不完整。",
    ),
    "period D": ("day", "天"),
    "period M": ("month", "月"),
    "period W": ("week", "周"),
    "period Q": ("quarter", "季度"),
    "period Y": ("year", "年"),
    "tiers": ("Value tiers and the value matrix", "价值等级与价值矩阵"),
    "tiers intro": (
        (
            "Tiers by {by}: platinum the top 1 % of customers, gold the next 4 %, iron the next 15 %, "
            "lead the other 80 %. The value matrix splits customers by purchases and average order "
            "value at their means."
        ),
        (
            "按{by}分级：白金为前 1 % 的客户，黄金为其后 4 %，铁为其后 15 %，铅为其余 80 %。"
            "价值矩阵按购买次数和客单价（以均值为界）把客户分为四类。"
        ),
    ),
    "clusters": ("Clusters", "聚类"),
    "clusters intro": (
        (
            "K-means on log-transformed, standardised recency, frequency and spend, k = {k}{how}; "
            "each cluster is named after the segment most of its customers hold."
        ),
        (
            "对取对数并标准化后的最近购买、购买频次和消费金额做 K-means 聚类，k = {k}{how}；"
            "每个聚类以其多数客户所属的分群命名。"
        ),
    ),
    "chosen k": (" (the highest silhouette over k = {})", "（在 k = {} 中轮廓系数最高）"),
    "comparison": ("Segments vs clusters", "分群与聚类的对比"),
    "agree high": ("closely", "高度一致"),
    "agree mid": ("in part", "部分一致"),
    "agree low": ("little", "差别很大"),
    "comparison sentence": (
        (
            "Adjusted Rand index {ari:.2f} and normalised mutual information {nmi:.2f}: the clusters agree "
            "{agree} with the segments (1 means the same grouping, 0 no more agreement than chance). "
            "The rules are easier to explain; the clusters follow the data's own shape."
        ),
        (
            "调整兰德指数 {ari:.2f}，标准化互信息 {nmi:.2f}：聚类与分群{agree}（1 表示分组完全相同，"
            "0 表示与随机分组无异）。规则分群更易解释，聚类更贴合数据本身的结构。"
        ),
    ),
    "predicts sentence": (
        (
            "Which grouping to act on: over the last {days} days ({start} to {end}), the segments made as of the "
            "start of that period explain {sp:.0%} of the differences between customers in purchases and {ss:.0%} "
            "in spend; the clusters {cp:.0%} and {cs:.0%}. {verdict}"
        ),
        (
            "该按哪种分组行动：在最近 {days} 天（{start} 至 {end}）中，按该期开始时划分的规则分群解释了客户之间"
            "购买次数差异的 {sp:.0%}、消费金额差异的 {ss:.0%}；聚类分别为 {cp:.0%} 和 {cs:.0%}。{verdict}"
        ),
    ),
    "segments predict": ("The segments tell more about what customers do next.", "规则分群更能预示客户接下来的行为。"),
    "clusters predict": ("The clusters tell more about what customers do next.", "聚类更能预示客户接下来的行为。"),
    "both predict": ("Both tell about as much.", "两者的预示能力相当。"),
    "stability sentence": (
        (
            "The clusters are {stable}: refitted with {seeds} other seeds they agree with these at an adjusted Rand "
            "index of {mean:.2f} on average (lowest {min:.2f})."
        ),
        "聚类{stable}：换用 {seeds} 个其他随机种子重新拟合，与当前聚类的调整兰德指数平均为 {mean:.2f}（最低 {min:.2f}）。",
    ),
    "stable": ("stable", "很稳定"),
    "fairly stable": ("fairly stable", "较稳定"),
    "unstable": ("unstable, so read their boundaries with care", "不稳定，其边界需谨慎看待"),
    "clv": ("Customer lifetime value", "客户终身价值"),
    "clv intro": (
        (
            "Expected value of each customer over the next {months} months ({model} for purchases, Gamma-Gamma "
            "for spend, discounted at {rate:.1%} a month, margin {margin:.0%}): {total} in all."
        ),
        (
            "每位客户未来 {months} 个月的预期价值（购买次数用 {model} 模型，消费金额用 Gamma-Gamma 模型，"
            "月折现率 {rate:.1%}，利润率 {margin:.0%}）：合计 {total}。"
        ),
    ),
    "p_alive note mbgnbd": (
        (
            "P(alive) is the MBG/NBD probability that a customer has not dropped out. The model lets a customer "
            "drop out right after any purchase, the first included, so a one-time buyer who has not come back "
            "for long gets a low P(alive)."
        ),
        (
            "存活概率是 MBG/NBD 模型估计的客户尚未流失的概率。该模型允许客户在任何一次购买（包括首次）之后流失，"
            "因此只买过一次且久未回购的客户存活概率较低。"
        ),
    ),
    "clv choice": (
        (
            "{model} was chosen: over the last {days} days its predictions of each customer's purchases were off "
            "by {mae:.3f} on average ({others})."
        ),
        "选择了 {model}：在最近 {days} 天中，它对每位客户购买次数的预测平均误差为 {mae:.3f}（{others}）。",
    ),
    "fit check": ("How well the model fits", "模型拟合检验"),
    "fit check intro": (
        (
            "Customers by the number of repeat purchases they made, as observed and as {model} expects for the "
            "same customers: bars that differ much mean its predictions deserve less trust."
        ),
        "按复购次数统计的客户数：实际值与 {model} 对同一批客户的期望值。两者差异大时，其预测的可信度较低。",
    ),
    "p_alive note pareto": (
        (
            "P(alive) is the Pareto/NBD probability that a customer has not dropped out. The model lets a customer "
            "leave at any time, unseen, so P(alive) falls the longer a customer stays silent, one-time buyers "
            "included."
        ),
        (
            "存活概率是 Pareto/NBD 模型估计的客户尚未流失的概率。该模型允许客户在任何时刻悄然流失，"
            "因此客户沉默越久存活概率越低，只购买过一次的客户也是如此。"
        ),
    ),
    "p_alive note": (
        (
            "P(alive) is the BG/NBD probability that a customer has not dropped out. The model lets a customer "
            "drop out only right after a purchase, so everyone who bought once gets P(alive) = 1: read it for "
            "repeat customers only."
        ),
        (
            "存活概率是 BG/NBD 模型估计的客户尚未流失的概率。该模型假设客户只会在某次购买之后流失，"
            "因此只购买过一次的客户存活概率都为 1：请只对复购客户参考此值。"
        ),
    ),
    "top customers": ("Top customers by {}", "{}最高的客户"),
    "quality": ("Data quality", "数据质量"),
    "quality intro": (
        "Every row read is either used or dropped for a reason; nothing is lost silently.",
        "读取的每一行要么被使用，要么因某个原因被剔除并计数，不会悄悄丢失。",
    ),
    "method": ("Method notes", "方法说明"),
    "notes": ("Notes", "提示"),
    "no charts": (
        "Install matplotlib (pip install 'rfmkit[plot]') to see the charts.",
        "安装 matplotlib（pip install 'rfmkit[plot]'）后可查看图表。",
    ),
    "no cjk font": (
        "",
        (
            "本机没有可显示中文的字体，图表中的中文标签已改用英文。安装一个中文字体即可显示中文，例如 "
            "Debian/Ubuntu：apt install fonts-noto-cjk；macOS 和 Windows 自带中文字体。"
        ),
    ),
    "kpi customers": ("Customers", "客户数"),
    "kpi revenue": ("Revenue", "销售额"),
    "kpi repeat": ("Repeat-purchase rate", "复购率"),
    "kpi churn": ("Churn rate (no purchase for {} days)", "流失率（{} 天未购买）"),
    "kpi aov": ("Average order value", "客单价"),
    "kpi top20": ("Revenue from the top 20 % of customers", "前 20 % 客户贡献的销售额"),
    "kpi active": ("Active customers", "活跃客户"),
    "kpi rows": ("Rows used of rows read", "使用行数 / 读取行数"),
    "kpi clv": ("Expected {}-month CLV, all customers", "全部客户未来 {} 个月的预期价值"),
    "kpi clusters": ("Clusters", "聚类数"),
    "def as_of": (
        "Observation date (as_of): {as_of}, exclusive; rows on or after it are not counted.",
        "观察日（as_of）：{as_of}，不含当日；当日及之后的记录不计入。",
    ),
    "def rfm": (
        (
            "Recency: whole days from the day of the last purchase to the observation date. "
            "Frequency: the number of purchases{orders}. Spend (monetary): the sum of the amounts{returns}."
        ),
        (
            "最近购买距今（R）：最后一次购买日到观察日的整天数。购买次数（F）：购买的次数{orders}。"
            "消费金额（M）：金额之和{returns}。"
        ),
    ),
    "def purchase": (
        (
            "A purchase is a row with a {amount} amount{order_lines}; rows without a customer, a date or a numeric "
            "amount are dropped and counted (see Data quality)."
        ),
        "金额{amount}的记录算一次购买{order_lines}；缺少客户编号、日期或金额无效的记录被剔除并计数（见数据质量）。",
    ),
    "positive": ("positive", "为正"),
    "positive or zero": ("positive or zero", "为正或为零"),
    "order lines": (" (the lines of one order make one purchase)", "（同一订单的多行算一次购买）"),
    "def scores": (
        (
            "Scores: quantile scores 1–{bins} of recency (shorter is better), frequency and spend; equal "
            "values share a score."
        ),
        "评分：R、F、M 按分位数评 1–{bins} 分（距今越短越好），相同的值得相同的分。",
    ),
    "orders": (" (distinct orders)", "（按不同订单计）"),
    "net returns": (", returns netted", "，已扣除退货"),
    "parameters": ("Parameters", "参数"),
    "versions": ("Versions", "版本"),
}


def word(key: str, lang: str, **values: Any) -> str:
    en, zh = WORDS[key]
    words = zh if lang == "zh" else en
    return words.format(**values) if values else words


def text(key: str, lang: str = "en", *values: Any) -> str:
    """The words of `key` in `lang` (``"en"`` or ``"zh"``), formatted with `values`; a key
    with no entry is shown as it is."""
    pair = TEXT.get(key)
    if pair is None:
        return key
    words = pair[1] if lang == "zh" else pair[0]
    return words.format(*values) if values else words


def column_label(name: Any, lang: str = "en") -> str:
    """The human label of a column (its name when it has none)."""
    return text(str(name), lang)


def dropped_label(reason: str, lang: str = "en") -> str:
    """``"Dropped: zero amount"`` for a reason of the accounting."""
    return text("dropped", lang, text(reason, lang) if reason in TEXT else reason.replace("_", " "))
